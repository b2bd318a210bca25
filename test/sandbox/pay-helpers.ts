/**
 * Test-side WeChat Pay v3 client, written independently of the sandbox's pay-crypto: signs requests with the
 * merchant key, verifies answers and notifications, decrypts resources; plus a local notify_url server.
 */
import { createDecipheriv, createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Harness } from './helpers';

export const MCHID = '1900000109';
export const SERIAL = '5157F09EFDC096DE15EBE81A47057A72AAAAAAAA';
export const API_V3_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';

export interface MerchantKeys {
  privateKey: KeyObject;
  publicKeyPem: string;
}

let cached: MerchantKeys | undefined;
let other: MerchantKeys | undefined;

function makeKeys(): MerchantKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The merchant's key pair (made once per test run). */
export function merchantKeys(): MerchantKeys {
  cached ??= makeKeys();
  return cached;
}

/** A key pair that is not the merchant's. */
export function strangerKeys(): MerchantKeys {
  other ??= makeKeys();
  return other;
}

export interface PayAnswer {
  status: number;
  headers: Record<string, string>;
  raw: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

export interface SignOptions {
  mchid?: string;
  serial?: string;
  key?: KeyObject;
  /** Unix seconds; default the sandbox clock. */
  timestamp?: number;
  /** Send this body while signing `body`. */
  sentBody?: string;
}

/** A signed WeChat Pay v3 call: `url` is the path with its query. */
export async function v3(h: Harness, method: 'GET' | 'POST', url: string, body?: unknown, o: SignOptions = {}): Promise<PayAnswer> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const ts = String(o.timestamp ?? Math.floor(h.clock.now() / 1000));
  const nonce = randomBytes(16).toString('hex').toUpperCase();
  const message = `${method}\n${url}\n${ts}\n${nonce}\n${text}\n`;
  const signature = createSign('RSA-SHA256')
    .update(message)
    .sign(o.key ?? merchantKeys().privateKey, 'base64');
  const auth = `WECHATPAY2-SHA256-RSA2048 mchid="${o.mchid ?? MCHID}",nonce_str="${nonce}",signature="${signature}",timestamp="${ts}",serial_no="${o.serial ?? SERIAL}"`;
  const sent = o.sentBody ?? text;
  const r = await h.http.request<string>({
    method,
    url,
    data: sent === '' ? undefined : sent,
    headers: { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/json' },
    transformRequest: [(d: unknown) => d],
    transformResponse: [(d: unknown) => d],
    responseType: 'text',
  });
  const raw = typeof r.data === 'string' ? r.data : '';
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  return { status: r.status, headers, raw, data: raw === '' ? undefined : JSON.parse(raw) };
}

/** Verifies Wechatpay-Signature over `timestamp\nnonce\nbody\n` with a platform public key (PEM or certificate). */
export function verifySigned(headers: Record<string, string> | IncomingHttpHeaders, body: string, publicKey: string): boolean {
  const h = (name: string): string => String(headers[name] ?? headers[name.toLowerCase()] ?? '');
  const message = `${h('wechatpay-timestamp')}\n${h('wechatpay-nonce')}\n${body}\n`;
  return createVerify('RSA-SHA256').update(message).verify(publicKey, h('wechatpay-signature'), 'base64');
}

/** AEAD_AES_256_GCM decryption with the APIv3 key. */
export function decrypt(r: { ciphertext: string; nonce: string; associated_data: string }, key = API_V3_KEY): string {
  const data = Buffer.from(r.ciphertext, 'base64');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(r.nonce));
  d.setAAD(Buffer.from(r.associated_data));
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString('utf8');
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface NotifyServer {
  url: string;
  received: Received[];
  /** Statuses to answer with, in order; 200 once exhausted. */
  answers: number[];
  close(): Promise<void>;
}

export async function startNotifyServer(): Promise<NotifyServer> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = answers.shift() ?? 200;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status === 200 ? '' : JSON.stringify({ code: 'FAIL', message: 'not now' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/pay/notify`,
    received,
    answers,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function jsapiBody(outTradeNo: string, notifyUrl: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: 'wx00000000000000a1',
    mchid: MCHID,
    description: 'Sandbox tea 1 cup',
    out_trade_no: outTradeNo,
    attach: 'cart=7',
    notify_url: notifyUrl,
    amount: { total: 1200, currency: 'CNY' },
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    ...over,
  };
}
