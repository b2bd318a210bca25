/**
 * Open-data helpers for mini-program user data (pure, no I/O).
 *
 * - encryptedData: AES-128-CBC with PKCS#7 padding, key = base64-decode(session_key) (16 bytes),
 *   iv = base64-decode(iv) (16 bytes). The plaintext is JSON carrying `watermark: {appid, timestamp}`.
 * - rawData signature: hex(sha1(rawData + session_key)).
 *
 * The session key is a server-side secret: it never appears in an error message, detail or cause.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../kernel/errors';
import { isRecord } from '../kernel/records';

const AES_BLOCK = 16;
const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
/** Canonical, padded standard base64 (RFC 4648 section 4); nothing else is accepted. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): AppError {
  return new AppError(400, 'INVALID_ENCRYPTED_DATA', message);
}

function stale(cause?: unknown): AppError {
  return new AppError(
    400,
    'SESSION_KEY_STALE',
    'The encrypted data could not be decrypted with the current session; this usually means the ' +
      'session key was replaced by a newer wx.login. Log in again (wx.login, then the login API) and retry.',
    cause === undefined ? {} : { cause },
  );
}

/**
 * Decodes strict base64 or throws INVALID_ENCRYPTED_DATA naming only the field (never its value).
 * Buffer.from(s, 'base64') silently skips invalid characters, so the shape is checked first.
 */
function decodeBase64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(`${field} must be a non-empty base64 string.`);
  }
  if (!STRICT_BASE64.test(value)) {
    // The usual culprit: '+' turned into ' ' by an unencoded query string or form body.
    const hint = value.includes(' ') ? " (a '+' may have been turned into a space by URL encoding)" : '';
    throw invalid(`${field} is not valid base64${hint}.`);
  }
  return Buffer.from(value, 'base64');
}

/**
 * Decrypts a mini program's `encryptedData` and checks that its watermark names `expectedAppid`.
 *
 * Errors (all AppError 400):
 * - INVALID_ENCRYPTED_DATA: a value is not strict base64, key or iv is not 16 bytes, or the ciphertext
 *   is empty or not a whole number of AES blocks;
 * - SESSION_KEY_STALE: decryption, padding, UTF-8 or JSON parsing fails (normally a stale session_key);
 * - WATERMARK_MISMATCH: `watermark.appid` is missing or differs from `expectedAppid`.
 */
export function decryptUserData(sessionKeyB64: string, encryptedDataB64: string, ivB64: string, expectedAppid: string): Record<string, unknown> {
  const key = decodeBase64(sessionKeyB64, 'session key');
  if (key.length !== 16) throw invalid('The session key must decode to 16 bytes.');
  const iv = decodeBase64(ivB64, 'iv');
  if (iv.length !== AES_BLOCK) throw invalid('iv must decode to 16 bytes.');
  const ciphertext = decodeBase64(encryptedDataB64, 'encryptedData');
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) {
    throw invalid('encryptedData must decode to a whole number of 16-byte blocks.');
  }

  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key, iv);
    decipher.setAutoPadding(true);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (e) {
    // OpenSSL's message ("bad decrypt") carries no key material.
    throw stale(e);
  }

  let data: unknown;
  try {
    data = JSON.parse(utf8.decode(plaintext));
  } catch {
    throw stale();
  }
  if (!isRecord(data)) throw stale();

  const watermark = data['watermark'];
  const appid = isRecord(watermark) ? watermark['appid'] : undefined;
  if (typeof appid !== 'string' || appid.length === 0 || appid !== expectedAppid) {
    throw new AppError(400, 'WATERMARK_MISMATCH', 'The encrypted data was not issued for this mini program (watermark appid mismatch).');
  }
  return data;
}

/**
 * Checks `signature === hex(sha1(rawData + session_key))` in constant time.
 * Returns false (never throws) for malformed input: non-string values, empty session key,
 * or a signature that is not 40 hex characters. Hex case is ignored.
 */
export function verifyRawDataSignature(rawData: string, sessionKeyB64: string, signature: string): boolean {
  if (typeof rawData !== 'string' || typeof sessionKeyB64 !== 'string' || typeof signature !== 'string') {
    return false;
  }
  if (sessionKeyB64.length === 0 || !SHA1_HEX.test(signature)) return false;
  const expected = createHash('sha1')
    .update(rawData + sessionKeyB64, 'utf8')
    .digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
