/**
 * Signatures WeChat puts on push requests (and that we put on encrypted replies).
 *
 * Both are SHA-1 (hex, lower case) over the input strings sorted and concatenated: `signature` over
 * token, timestamp and nonce; `msg_signature` additionally over the `Encrypt` value. Sorting is
 * plain UTF-16 code-unit order, which equals WeChat's byte order for the ASCII inputs it uses
 * (token, digits, nonce, base64).
 */
import { hash, timingSafeEqual } from 'node:crypto';

/**
 * SHA-1 of the inputs in code-unit order (`<` on strings: no locale collation, which would reorder
 * upper and lower case), concatenated. Three or four strings on every push, sorted by hand: a copy,
 * Array.prototype.sort and join cost more garbage than the hashing.
 */
function sha1OfSorted(a: string, b: string, c: string, d?: string): string {
  // A sorting network for three, then d inserted.
  if (b < a) [a, b] = [b, a];
  if (c < b) [b, c] = [c, b];
  if (b < a) [a, b] = [b, a];
  if (d === undefined) return hash('sha1', a + b + c, 'hex');
  if (d < a) return hash('sha1', d + a + b + c, 'hex');
  if (d < b) return hash('sha1', a + d + b + c, 'hex');
  if (d < c) return hash('sha1', a + b + d + c, 'hex');
  return hash('sha1', a + b + c + d, 'hex');
}

/** The shape WeChat gives the timestamp and nonce of a signed push or event query (checked before any signature). */
export const SIGNED_TIMESTAMP = /^\d{1,12}$/;
export const SIGNED_NONCE = /^[A-Za-z0-9_-]{1,64}$/;

/** `signature` of URL verification and plain-mode pushes: sha1(sort(token, timestamp, nonce)). */
export function pushSignature(token: string, timestamp: string, nonce: string): string {
  return sha1OfSorted(token, timestamp, nonce);
}

/** `msg_signature` of encrypted pushes and `MsgSignature` of encrypted replies. */
export function msgSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return sha1OfSorted(token, timestamp, nonce, encrypt);
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
