import { AppError } from '../kernel/errors';
import { parsePushBody, type BodyLimits, type PushFormat } from './body-parse';
import { cachedAesKey, openPush } from '../protocol/msg-crypto';
import { msgSignature, pushSignature, SIGNED_NONCE, SIGNED_TIMESTAMP, verifySignature } from '../protocol/signature';
import { normalise, type PushMessage } from './message';
import type { ErrorCode } from '../kernel/error-catalogue';

/**
 * Turns one HTTP push into a verified, decrypted, normalised message. Pure: the clock reading,
 * the tenant's credentials and the raw request are passed in, so it is unit-testable without I/O.
 * Order matters: the signature is checked before any decryption, so the distinct decrypt error
 * codes cannot serve as a padding oracle to an unsigned sender.
 */
export interface PushQuery {
  signature?: string;
  timestamp?: string;
  nonce?: string;
  encrypt_type?: string;
  msg_signature?: string;
  echostr?: string;
}

export interface PushCredentials {
  appid: string;
  token: string;
  aesKey: string;
}

export interface OpenedPush {
  msg: PushMessage;
  /** The format of the message (the reply must use it). */
  format: PushFormat;
  /** Whether the push came encrypted (the reply must be encrypted too). */
  encrypted: boolean;
}

const unauthorized = (code: ErrorCode, message: string) => new AppError(401, code, message);

/** What a checked signed query vouches for: its timestamp and nonce. */
export interface SignedQuery {
  timestamp: string;
  nonce: string;
}

/** Checks timestamp/nonce shape, the replay window, and the plain `signature` (WeChat puts it on every push URL, encrypted ones included). */
export function checkSignedQuery(q: PushQuery, token: string, nowS: number, windowS: number): SignedQuery {
  const { timestamp, nonce } = q;
  if (!timestamp || !SIGNED_TIMESTAMP.test(timestamp) || !nonce || !SIGNED_NONCE.test(nonce)) {
    throw new AppError(400, 'INVALID_QUERY', 'timestamp (digits) and nonce are required');
  }
  if (!verifySignature(pushSignature(token, timestamp, nonce), q.signature)) {
    throw unauthorized('INVALID_SIGNATURE', 'signature does not match');
  }
  if (Math.abs(nowS - Number(timestamp)) > windowS) {
    throw unauthorized('STALE_TIMESTAMP', `timestamp is more than ${windowS} s away from now`);
  }
  return { timestamp, nonce };
}

/** URL verification (GET): the echostr to answer with. */
export function verifyEcho(q: PushQuery, token: string, nowS: number, windowS: number): string {
  checkSignedQuery(q, token, nowS, windowS);
  const echostr = q.echostr;
  if (!echostr || echostr.length > 256 || !/^[\x21-\x7e]+$/.test(echostr)) throw new AppError(400, 'INVALID_QUERY', 'echostr is missing or malformed');
  return echostr;
}

/** Whether the query announces an encrypted push (encrypt_type=aes); another encrypt_type is refused. */
export function isEncryptedQuery(q: PushQuery): boolean {
  const encrypted = q.encrypt_type !== undefined && q.encrypt_type !== '' && q.encrypt_type !== 'raw';
  if (encrypted && q.encrypt_type !== 'aes') throw new AppError(400, 'INVALID_QUERY', 'encrypt_type must be aes or raw');
  return encrypted;
}

/** Opens the body of a push whose query `checkSignedQuery` already accepted (`signed` is its result). */
export function openPushRequest(creds: PushCredentials, q: PushQuery, signed: SignedQuery, body: Buffer, contentType: string | undefined, limits: Partial<BodyLimits> = {}): OpenedPush {
  const encrypted = isEncryptedQuery(q);
  const { timestamp, nonce } = signed;
  const outer = parsePushBody(body, contentType, limits);
  if (!encrypted) {
    return { msg: normalise(outer.fields, creds.appid), format: outer.format, encrypted: false };
  }
  // Safe and compatible mode: only the Encrypt part counts, whatever plaintext sits beside it.
  const encrypt = outer.fields.Encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') throw new AppError(400, 'MALFORMED_BODY', 'encrypted push without an Encrypt field');
  if (!verifySignature(msgSignature(creds.token, timestamp, nonce, encrypt), q.msg_signature)) {
    throw unauthorized('INVALID_SIGNATURE', 'msg_signature does not match');
  }
  const inner = openPush(cachedAesKey(creds.aesKey), creds.appid, encrypt);
  const parsed = parsePushBody(inner, undefined, limits);
  return { msg: normalise(parsed.fields, creds.appid), format: parsed.format, encrypted: true };
}
