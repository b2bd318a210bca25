/**
 * WeChat Pay v3 signatures (pure: keys, times and nonces are passed in).
 *
 * - A request to WeChat Pay carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,serial_no=..,
 *   timestamp=..,nonce_str=..,signature=..` (WeChat Pay reads them in any order), the signature being RSA-SHA256 (PKCS#1 v1.5) with the
 *   merchant's private key over `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
 * - Answers and notifications from WeChat Pay carry `Wechatpay-Timestamp`, `-Nonce`, `-Serial` and
 *   `-Signature` over `TIMESTAMP\nNONCE\nBODY\n`, made with the platform key the serial names (a
 *   `PUB_KEY_ID_...` in public-key mode, a certificate serial in certificate mode).
 * - The parameters of `wx.requestPayment` are signed over `APPID\nTIMESTAMP\nNONCE\nPACKAGE\n`.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const PAY_AUTH_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';
/** How far a WeChat Pay timestamp may be from our clock (WeChat Pay's own rule: 5 minutes). */
export const PAY_MAX_SKEW_S = 300;

/** The lines WeChat Pay signs, each followed by "\n". */
export function signedLines(...parts: readonly string[]): string {
  return parts.map((p) => `${p}\n`).join('');
}

export function rsaSign(message: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

export function rsaVerify(message: string, signature: string, publicKey: KeyObject): boolean {
  // A signature that is not base64 of the key's size is simply not valid; never an exception.
  const sig = Buffer.from(signature, 'base64');
  if (sig.length === 0) return false;
  try {
    return verify('sha256', Buffer.from(message, 'utf8'), publicKey, sig);
  } catch {
    return false;
  }
}

export interface AuthorizationInput {
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  method: string;
  /** Path and query exactly as sent, e.g. `/v3/pay/transactions/out-trade-no/1?mchid=1900000109`. */
  pathAndQuery: string;
  /** The exact body bytes sent ('' for none). */
  body: string;
  timestamp: number;
  nonce: string;
}

export function authorizationHeader(a: AuthorizationInput): string {
  const signature = rsaSign(signedLines(a.method.toUpperCase(), a.pathAndQuery, String(a.timestamp), a.nonce, a.body), a.privateKey);
  return `${PAY_AUTH_SCHEMA} mchid="${a.mchid}",serial_no="${a.serialNo}",timestamp="${a.timestamp}",nonce_str="${a.nonce}",signature="${signature}"`;
}

/** The four headers WeChat Pay signs its answers and notifications with (names in lower case). */
export interface PaySignedHeaders {
  timestamp?: string;
  nonce?: string;
  serial?: string;
  signature?: string;
}

export function signedHeadersOf(headers: Readonly<Record<string, string | string[] | undefined>>): PaySignedHeaders {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  return { timestamp: one('wechatpay-timestamp'), nonce: one('wechatpay-nonce'), serial: one('wechatpay-serial'), signature: one('wechatpay-signature') };
}

export type VerifyOutcome = { ok: true; serial: string } | { ok: false; reason: 'missing-headers' | 'stale' | 'unknown-serial' | 'bad-signature' };

/**
 * Verifies a signed answer or notification. `keys` maps serials to platform public keys; `nowS` is
 * our clock in seconds. The order of checks matters for what a prober learns: a forged message is
 * refused for its signature, never told which serials exist beyond "unknown".
 */
export function verifyPaySignature(h: PaySignedHeaders, body: string, keys: ReadonlyMap<string, KeyObject>, nowS: number, maxSkewS = PAY_MAX_SKEW_S): VerifyOutcome {
  const { timestamp, nonce, serial, signature } = h;
  if (!timestamp || !nonce || !serial || !signature || !/^\d{1,12}$/.test(timestamp) || nonce.length > 64 || serial.length > 128 || signature.length > 1024) {
    return { ok: false, reason: 'missing-headers' };
  }
  if (Math.abs(nowS - Number(timestamp)) > maxSkewS) return { ok: false, reason: 'stale' };
  const key = keys.get(serial);
  if (!key) return { ok: false, reason: 'unknown-serial' };
  if (!rsaVerify(signedLines(timestamp, nonce, body), signature, key)) return { ok: false, reason: 'bad-signature' };
  return { ok: true, serial };
}

/** What the mini program passes to `wx.requestPayment` (field names as WeChat spells them). */
export interface RequestPaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export function requestPaymentParams(appId: string, prepayId: string, privateKey: KeyObject, timestamp: number, nonce: string): RequestPaymentParams {
  const pkg = `prepay_id=${prepayId}`;
  const timeStamp = String(timestamp);
  return { appId, timeStamp, nonceStr: nonce, package: pkg, signType: 'RSA', paySign: rsaSign(signedLines(appId, timeStamp, nonce, pkg), privateKey) };
}

/** Parses a merchant private key (PKCS#8 or PKCS#1 PEM); throws a message that never contains the key. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA private key');
  return key;
}

/** Parses a platform public key: an SPKI/PKCS#1 public key PEM or an X.509 certificate PEM. */
export function parsePublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('not a PEM public key or certificate');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA public key');
  return key;
}
