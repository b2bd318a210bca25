/**
 * The WXBizMsgCrypt cipher used by WeChat's "safe" and "compatible" push modes.
 *
 * key       = base64-decode(EncodingAESKey + "="), 32 bytes
 * cipher    = AES-256-CBC, IV = first 16 bytes of the key, no library padding
 * padding   = PKCS#7 to a 32-byte block (pad value 1..32), not the usual 16
 * plaintext = 16 random bytes | 4-byte big-endian length of message | message (UTF-8) | appid
 *
 * Security note: decrypt errors have distinct codes, which on an unauthenticated channel would be
 * a CBC padding oracle. Callers must therefore verify `msg_signature` (which covers the ciphertext)
 * before calling `decryptMessage`/`openPush`; then a tampered ciphertext never reaches the cipher.
 */
import { AppError } from '../kernel/errors';
import { cbcOf } from './fixed-iv-cbc';
import { pooledRandomBytes } from './random-pool';

const KEY_BYTES = 32;
const RANDOM_PREFIX_BYTES = 16;
const LENGTH_FIELD_BYTES = 4;
const HEADER_BYTES = RANDOM_PREFIX_BYTES + LENGTH_FIELD_BYTES;
/** WeChat pads to 32 bytes, not to the AES block size (16). */
const PAD_BLOCK = 32;
const AES_BLOCK = 16;

export interface DecryptedMessage {
  /** The inner message (XML or JSON text, or the echostr of URL verification). */
  message: string;
  /** The appid found after the message; must be the tenant's (see openPush). */
  appid: string;
}

const ENCODING_KEY_RE = /^[A-Za-z0-9+/]{43}$/;

/** True when `s` has the shape of an EncodingAESKey: exactly 43 characters of the base64 alphabet. */
export function isValidEncodingAESKey(s: unknown): s is string {
  return typeof s === 'string' && ENCODING_KEY_RE.test(s);
}

/**
 * Derives the 32-byte AES key from a tenant's EncodingAESKey. Throws a plain Error: a bad key is a
 * tenant configuration problem, which tenant-file validation is meant to catch before we get here.
 * The message never contains the key itself (it is a secret).
 *
 * No canonical-encoding check: 43 characters carry 258 bits, and the last character's two spare
 * bits are not always zero (they are not in WeChat's own sample key), so they are ignored.
 */
export function aesKeyFromEncodingKey(encodingAESKey: string): Buffer {
  if (!isValidEncodingAESKey(encodingAESKey)) {
    throw new Error('EncodingAESKey must be exactly 43 characters of the base64 alphabet');
  }
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(`EncodingAESKey must decode to ${KEY_BYTES} bytes`);
  }
  return key;
}

/** Derived keys by EncodingAESKey: a push and its reply need the key, and deriving it (check, base64) costs each time. */
const derivedKeys = new Map<string, Buffer>();
const DERIVED_KEYS_MAX = 1024;

/**
 * aesKeyFromEncodingKey, remembered for the most recent keys (the map starts over when full, so
 * a fleet of tenants cannot grow it). The Buffer is shared: callers only read it.
 */
export function cachedAesKey(encodingAESKey: string): Buffer {
  let key = derivedKeys.get(encodingAESKey);
  if (!key) {
    key = aesKeyFromEncodingKey(encodingAESKey);
    if (derivedKeys.size >= DERIVED_KEYS_MAX) derivedKeys.clear();
    derivedKeys.set(encodingAESKey, key);
  }
  return key;
}

function assertKey(key: Buffer): void {
  // A programming error (the key always comes from aesKeyFromEncodingKey), hence a plain Error.
  if (key.length !== KEY_BYTES) throw new Error(`AES key must be ${KEY_BYTES} bytes`);
}

/**
 * Encrypts `message` for `appid`; returns the base64 `Encrypt` value. `randomPrefix` exists so the
 * official test vectors can be reproduced; production callers leave it out.
 */
export function encryptMessage(key: Buffer, appid: string, message: string, randomPrefix: Buffer = pooledRandomBytes(RANDOM_PREFIX_BYTES)): string {
  assertKey(key);
  if (randomPrefix.length !== RANDOM_PREFIX_BYTES) {
    throw new Error(`random prefix must be ${RANDOM_PREFIX_BYTES} bytes`);
  }
  // The plaintext is laid out in one buffer: prefix | length | message | appid | padding.
  const bodyLength = Buffer.byteLength(message, 'utf8');
  const unpaddedLength = HEADER_BYTES + bodyLength + Buffer.byteLength(appid, 'utf8');
  // Always at least one byte of padding (a full 32-byte block when already aligned), so the last
  // byte always says how much to strip.
  const padLength = PAD_BLOCK - (unpaddedLength % PAD_BLOCK);
  const plain = Buffer.allocUnsafe(unpaddedLength + padLength);
  randomPrefix.copy(plain, 0);
  plain.writeUInt32BE(bodyLength, RANDOM_PREFIX_BYTES);
  plain.write(message, HEADER_BYTES, 'utf8');
  plain.write(appid, HEADER_BYTES + bodyLength, 'utf8');
  plain.fill(padLength, unpaddedLength);
  return cbcOf(key).encrypt(plain).toString('base64');
}

/**
 * Standard base64 with padding, nothing else. Buffer.from(s, 'base64') silently skips characters
 * outside the alphabet (and accepts url-safe ones), which would let different strings - and so
 * different msg_signatures - decode to the same ciphertext. So the string must be exactly the
 * canonical encoding of what it decodes to: that refuses every such variant (and non-zero spare
 * bits before the padding) with two native passes instead of a loop over every character.
 */
function decodeStrictBase64(s: string): Buffer | undefined {
  if (s.length === 0 || s.length % 4 !== 0) return undefined;
  const data = Buffer.from(s, 'base64');
  return data.toString('base64') === s ? data : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decryptFailed(reason: string, cause?: unknown): AppError {
  // One code for every failure after base64 decoding, and a fixed message: which step failed would
  // help a padding-oracle prober, so the reason goes to the request's log only (never plaintext).
  return new AppError(400, 'DECRYPT_FAILED', 'Encrypted message could not be decrypted', {
    logDetails: { reason },
    cause,
  });
}

/** Decrypts a base64 `Encrypt` value. Does not check the appid: use openPush for pushes. */
export function decryptMessage(key: Buffer, encryptB64: string): DecryptedMessage {
  assertKey(key);
  const data = typeof encryptB64 === 'string' ? decodeStrictBase64(encryptB64) : undefined;
  if (data === undefined) {
    throw new AppError(400, 'INVALID_CIPHERTEXT', 'Encrypt is not valid base64');
  }
  if (data.length === 0 || data.length % AES_BLOCK !== 0) {
    throw new AppError(400, 'INVALID_CIPHERTEXT', 'Encrypt has an invalid length', {
      details: { bytes: data.length },
    });
  }

  let plain: Buffer;
  try {
    plain = cbcOf(key).decrypt(data);
  } catch (err) {
    throw decryptFailed('cipher', err);
  }

  // Strict PKCS#7 (every pad byte checked): a wrong key almost always fails here.
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > PAD_BLOCK || pad > plain.length) throw decryptFailed('padding');
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw decryptFailed('padding');
  }
  const unpadded = plain.subarray(0, plain.length - pad);

  if (unpadded.length < HEADER_BYTES) throw decryptFailed('too short');
  const messageLength = unpadded.readUInt32BE(RANDOM_PREFIX_BYTES);
  if (messageLength > unpadded.length - HEADER_BYTES) throw decryptFailed('length field');

  try {
    const message = utf8.decode(unpadded.subarray(HEADER_BYTES, HEADER_BYTES + messageLength));
    const appid = utf8.decode(unpadded.subarray(HEADER_BYTES + messageLength));
    return { message, appid };
  } catch (err) {
    throw decryptFailed('utf-8', err);
  }
}

/**
 * Decrypts a push and checks that it was encrypted for this tenant's appid (the EncodingAESKey alone
 * does not prove that: two mini programs may be configured with the same key). Returns the inner
 * message text. Call only after verifying msg_signature (see the note at the top).
 */
export function openPush(key: Buffer, appidExpected: string, encryptB64: string): string {
  const { message, appid } = decryptMessage(key, encryptB64);
  if (appid !== appidExpected) {
    throw new AppError(401, 'APPID_MISMATCH', 'Encrypted message is not for this appid');
  }
  return message;
}
