import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The id a sealed value carries to name its key: the first 8 hex digits of the key's SHA-256. It
 * tells the keys of a ring apart (and an operator which key a value is under) without revealing the
 * key: 32 bits of a hash of a 256-bit random key give nothing to search with.
 */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** What `describe` says of a sealed value without opening it. */
export type SealedFormat = { version: 'v1' } | { version: 'v2'; kid: string } | { version: 'unknown' };

/** Reads the format and key id of a sealed value (no decryption, no key needed). */
export function sealedFormat(sealed: string): SealedFormat {
  const parts = sealed.split('.');
  if (parts.length === 4 && parts[0] === 'v1') return { version: 'v1' };
  if (parts.length === 5 && parts[0] === 'v2' && /^[0-9a-f]{8}$/.test(parts[1] as string)) return { version: 'v2', kid: parts[1] as string };
  return { version: 'unknown' };
}

interface RingKey {
  kid: string;
  key: Buffer;
}

/**
 * AES-256-GCM for secrets at rest (tenant secrets, session keys, sealed Redis copies). The
 * additional authenticated data binds a ciphertext to where it belongs (e.g. "wx...:secret"), so a
 * value copied into another tenant's or field's slot fails to open instead of silently being used.
 *
 * A box holds a key ring (SECRETS_KEYS): the first key seals, every key opens, so a fleet can move
 * to a new key while values sealed under the old one are still being re-encrypted.
 * Formats, each part base64url:
 * - v2.<kid>.<iv>.<tag>.<ciphertext>: what `seal` writes; `kid` names the key (see `keyId`).
 * - v1.<iv>.<tag>.<ciphertext>: written before key rotation existed; opened by trying every key.
 */
export class SecretBox {
  private readonly ring: RingKey[];

  /** One base64 key (SECRETS_KEY) or a ring (SECRETS_KEYS), the first of which seals. */
  constructor(keysBase64: string | readonly string[]) {
    const list = typeof keysBase64 === 'string' ? [keysBase64] : keysBase64;
    if (list.length === 0) throw new Error('SecretBox needs at least one key');
    this.ring = list.map((k) => {
      const key = Buffer.from(k, 'base64');
      if (key.length !== 32) throw new Error('SecretBox needs 32-byte keys');
      return { kid: keyId(key), key };
    });
    if (new Set(this.ring.map((k) => k.kid)).size !== this.ring.length) throw new Error('SecretBox keys must be distinct');
  }

  /** The id of the key `seal` uses. */
  get primaryKid(): string {
    return (this.ring[0] as RingKey).kid;
  }

  /** The ids of every key of the ring, the sealing one first. */
  get kids(): string[] {
    return this.ring.map((k) => k.kid);
  }

  seal(plaintext: string, context: string): string {
    const { kid, key } = this.ring[0] as RingKey;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v2', kid, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    const format = sealedFormat(sealed);
    if (format.version === 'v2') {
      const k = this.ring.find((r) => r.kid === format.kid);
      // The key id is not a secret: naming it tells the operator which key is missing from the ring.
      if (!k) throw new Error(`cannot decrypt ${context}: sealed under key ${format.kid}, which is not in SECRETS_KEYS`);
      const opened = tryOpen(k.key, parts[2] as string, parts[3] as string, parts[4] as string, context);
      if (opened === null) throw new Error(`cannot decrypt ${context}: tampered data (key ${format.kid})`);
      return opened;
    }
    if (format.version === 'v1') {
      for (const k of this.ring) {
        const opened = tryOpen(k.key, parts[1] as string, parts[2] as string, parts[3] as string, context);
        if (opened !== null) return opened;
      }
      // Wrong keys or a tampered value; never include the value itself.
      throw new Error(`cannot decrypt ${context}: wrong SECRETS_KEY or tampered data`);
    }
    throw new Error(`sealed value for ${context} has an unknown format`);
  }

  /** Whether a sealed value is already under the sealing key (a rekey leaves it as it is). */
  isCurrent(sealed: string): boolean {
    const f = sealedFormat(sealed);
    return f.version === 'v2' && f.kid === this.primaryKid;
  }

  /** The same plaintext sealed under the sealing key; throws as `open` does when it cannot be opened. */
  reseal(sealed: string, context: string): string {
    return this.seal(this.open(sealed, context), context);
  }
}

function tryOpen(key: Buffer, iv: string, tag: string, ct: string, context: string): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
