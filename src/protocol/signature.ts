/**
 * Signatures WeChat puts on push requests (and that we put on encrypted replies).
 *
 * Both are SHA-1 (hex, lower case) over the input strings sorted and concatenated: `signature` over
 * token, timestamp and nonce; `msg_signature` additionally over the `Encrypt` value. Sorting is
 * plain UTF-16 code-unit order, which equals WeChat's byte order for the ASCII inputs it uses
 * (token, digits, nonce, base64).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function sha1OfSorted(parts: readonly string[]): string {
  // An explicit comparator: the default sort would do the same today, but this states the intent
  // (no locale collation, which would reorder upper and lower case).
  const sorted = [...parts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha1').update(sorted.join(''), 'utf8').digest('hex');
}

/** The shape WeChat gives the timestamp and nonce of a signed push or event query (checked before any signature). */
export const SIGNED_TIMESTAMP = /^\d{1,12}$/;
export const SIGNED_NONCE = /^[A-Za-z0-9_-]{1,64}$/;

/** `signature` of URL verification and plain-mode pushes: sha1(sort(token, timestamp, nonce)). */
export function pushSignature(token: string, timestamp: string, nonce: string): string {
  return sha1OfSorted([token, timestamp, nonce]);
}

/** `msg_signature` of encrypted pushes and `MsgSignature` of encrypted replies. */
export function msgSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return sha1OfSorted([token, timestamp, nonce, encrypt]);
}

/**
 * Constant-time comparison of a computed signature with the one from the request, so the
 * comparison time does not tell an attacker how many leading characters were right. Missing or
 * different-length values are simply unequal (their length is not secret).
 */
export function verifySignature(expected: string, given: string | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length || a.length === 0) return false;
  return timingSafeEqual(a, b);
}
