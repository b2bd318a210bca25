/**
 * WeChat Pay APIv3 cryptography, pure functions over node:crypto: the request Authorization header, the
 * signature of answers and notifications (RSA-SHA256, PKCS#1 v1.5, base64), and AEAD_AES_256_GCM resources
 * (notification payloads, downloaded certificates). Exported so the gateway's tests can build signed
 * requests and notifications by hand.
 */
import { createCipheriv, createDecipheriv, createSign, createVerify, randomBytes, randomInt, type KeyLike } from 'node:crypto';

export const AUTH_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';
export const AEAD_ALGORITHM = 'AEAD_AES_256_GCM';
const TAG_BYTES = 16;

/** RSA-SHA256 (PKCS#1 v1.5) signature of `message`, base64. */
export function signPayMessage(privateKey: KeyLike, message: string): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64');
}

/** Checks a base64 RSA-SHA256 signature; false (never a throw) for malformed keys or signatures. */
export function verifyPayMessage(publicKey: KeyLike, message: string, signatureB64: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(message, 'utf8').verify(publicKey, signatureB64, 'base64');
  } catch {
    return false;
  }
}

/** What a merchant signs: `METHOD\nurl\ntimestamp\nnonce\nbody\n`; `url` is the path with its query; body '' for GET. */
export function requestMessage(method: string, url: string, timestamp: string | number, nonce: string, body: string): string {
  return `${method.toUpperCase()}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** What WeChat Pay signs in answers and notifications: `timestamp\nnonce\nbody\n`. */
export function responseMessage(timestamp: string | number, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

const NONCE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric string (nonces: 32 for headers, 12 for AES-GCM resources). */
export function newNonce(length = 32): string {
  let s = '';
  for (let i = 0; i < length; i++) s += NONCE_CHARS[randomInt(NONCE_CHARS.length)];
  return s;
}

export interface AuthorizationFields {
  mchid: string;
  nonce_str: string;
  signature: string;
  timestamp: string;
  serial_no: string;
}

export interface BuildAuthorizationInput {
  mchid: string;
  /** Serial number of the merchant API certificate (or key) registered with WeChat Pay. */
  serialNo: string;
  privateKey: KeyLike;
  method: string;
  /** Path with its query, exactly as sent, e.g. `/v3/pay/transactions/out-trade-no/X?mchid=1`. */
  url: string;
  body?: string;
  /** Unix seconds; default now (system time). */
  timestamp?: number;
  nonce?: string;
}

/** The `Authorization` header value of a WeChat Pay v3 request. */
export function buildAuthorization(i: BuildAuthorizationInput): string {
  const timestamp = String(i.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = i.nonce ?? newNonce();
  const signature = signPayMessage(i.privateKey, requestMessage(i.method, i.url, timestamp, nonce, i.body ?? ''));
  return `${AUTH_SCHEMA} mchid="${i.mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${i.serialNo}"`;
}

/** Parses an Authorization header; undefined when the schema or one of the five fields is missing. */
export function parseAuthorization(header: string | undefined): AuthorizationFields | undefined {
  if (!header) return undefined;
  const m = /^(\S+)\s+(.*)$/s.exec(header.trim());
  if (!m || m[1] !== AUTH_SCHEMA) return undefined;
  const fields: Record<string, string> = {};
  for (const part of m[2].matchAll(/(\w+)="([^"]*)"/g)) fields[part[1]] = part[2];
  const { mchid, nonce_str, signature, timestamp, serial_no } = fields;
  if (!mchid || !nonce_str || !signature || !timestamp || !serial_no) return undefined;
  return { mchid, nonce_str, signature, timestamp, serial_no };
}

/** The loose mchid of an Authorization header (for attributing a call before it is checked). */
export function authorizationMchid(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /mchid="([^"]+)"/.exec(header)?.[1];
}

export interface SignedHeaders {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature': string;
}

/** The four Wechatpay-* headers of an answer or a notification with this body. */
export function signedHeaders(privateKey: KeyLike, serial: string, body: string, timestampSeconds: number, nonce = newNonce()): SignedHeaders {
  const timestamp = String(timestampSeconds);
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Serial': serial,
    'Wechatpay-Signature': signPayMessage(privateKey, responseMessage(timestamp, nonce, body)),
  };
}

export interface EncryptedResource {
  algorithm: typeof AEAD_ALGORITHM;
  /** base64 of ciphertext || 16-byte GCM tag. */
  ciphertext: string;
  associated_data: string;
  /** 12 characters, used as the GCM IV (utf8). */
  nonce: string;
}

function aesKey(apiV3Key: string): Buffer {
  const key = Buffer.from(apiV3Key, 'utf8');
  if (key.length !== 32) throw new TypeError('apiV3Key must be 32 bytes (utf8)');
  return key;
}

/** AEAD_AES_256_GCM with the merchant's APIv3 key, as WeChat Pay encrypts notification resources and certificates. */
export function encryptResource(apiV3Key: string, plaintext: string, associatedData: string, nonce = newNonce(12)): EncryptedResource {
  const cipher = createCipheriv('aes-256-gcm', aesKey(apiV3Key), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { algorithm: AEAD_ALGORITHM, ciphertext: body.toString('base64'), associated_data: associatedData, nonce };
}

/** Inverse of encryptResource; throws when the key, nonce, associated data or tag do not match. */
export function decryptResource(apiV3Key: string, r: { ciphertext: string; associated_data?: string; nonce: string }): string {
  const data = Buffer.from(r.ciphertext, 'base64');
  if (data.length < TAG_BYTES) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', aesKey(apiV3Key), Buffer.from(r.nonce, 'utf8'));
  decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
}

/** A fresh id for headers like Request-ID. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}
