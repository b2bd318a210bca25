/**
 * The encrypted `resource` of WeChat Pay notifications and of the certificate download:
 * AEAD_AES_256_GCM with the merchant's APIv3 key (its 32 UTF-8 bytes), a 12-byte nonce given as
 * text, `associated_data` as AAD, and `ciphertext` = base64(ciphertext || 16-byte tag).
 */
import { createDecipheriv, X509Certificate } from 'node:crypto';

export const PAY_RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM';
const TAG_BYTES = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface EncryptedResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

export class PayResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayResourceError';
  }
}

/** Checks an APIv3 key the way WeChat Pay uses it (32 bytes of text). */
export function isApiV3Key(key: string): boolean {
  return Buffer.byteLength(key, 'utf8') === 32;
}

export function decryptResource(r: EncryptedResource, apiV3Key: string): string {
  if (r.algorithm !== PAY_RESOURCE_ALGORITHM) throw new PayResourceError(`unsupported algorithm ${String(r.algorithm).slice(0, 32)}`);
  if (!isApiV3Key(apiV3Key)) throw new PayResourceError('the APIv3 key is not 32 bytes');
  const nonce = Buffer.from(r.nonce ?? '', 'utf8');
  if (nonce.length === 0 || nonce.length > 64) throw new PayResourceError('nonce malformed');
  // Buffer.from skips what is not base64; a ciphertext with junk in it is malformed, not "close enough".
  if (typeof r.ciphertext !== 'string' || !BASE64.test(r.ciphertext)) throw new PayResourceError('ciphertext is not base64');
  const raw = Buffer.from(r.ciphertext, 'base64');
  if (raw.length <= TAG_BYTES) throw new PayResourceError('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), nonce);
  decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(0, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    // A wrong key, a tampered ciphertext or AAD: GCM cannot tell them apart, and neither do we.
    throw new PayResourceError('resource does not decrypt with the APIv3 key');
  }
}

export interface PlatformCertificate {
  serialNo: string;
  /** The certificate PEM (its public key verifies WeChat Pay's signatures). */
  pem: string;
  expiresAt: number;
}

/**
 * Decrypts the `/v3/certificates` answer. Each certificate's own serial must equal the serial
 * listed beside it, so a listing cannot present one key under another's name.
 */
export function decryptCertificates(data: unknown, apiV3Key: string): PlatformCertificate[] {
  if (typeof data !== 'object' || data === null || !Array.isArray((data as { data?: unknown }).data)) throw new PayResourceError('certificate list malformed');
  const out: PlatformCertificate[] = [];
  for (const item of (data as { data: unknown[] }).data) {
    const it = item as { serial_no?: unknown; expire_time?: unknown; encrypt_certificate?: EncryptedResource };
    if (typeof it.serial_no !== 'string' || !it.encrypt_certificate) throw new PayResourceError('certificate entry malformed');
    const pem = decryptResource(it.encrypt_certificate, apiV3Key);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      throw new PayResourceError('certificate entry is not an X.509 certificate');
    }
    if (normaliseSerial(cert.serialNumber) !== normaliseSerial(it.serial_no)) throw new PayResourceError('certificate serial does not match its listing');
    const expiresAt = typeof it.expire_time === 'string' ? Date.parse(it.expire_time) : Date.parse(cert.validTo);
    out.push({ serialNo: it.serial_no, pem, expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.parse(cert.validTo) });
  }
  return out;
}

/** Certificate serials are hex; WeChat Pay writes them in upper case without leading zeros trimmed. */
export function normaliseSerial(s: string): string {
  return s.toUpperCase().replace(/^0+(?=.)/, '');
}
