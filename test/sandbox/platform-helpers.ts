/** Test side of the sandbox's third-party platforms: an event URL that records what WeChat posts, and an independent decryption. */
import { createDecipheriv, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlatformRegistration } from '../../src/sandbox';
import type { Harness, WxBody } from './helpers';

export const PLATFORM: PlatformRegistration = {
  componentAppid: 'wx0c0c0c0c0c0c0c01',
  secret: '0123456789abcdef0123456789abcdef',
  token: 'platformToken1',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};
export const PLATFORM2: PlatformRegistration = {
  componentAppid: 'wx0c0c0c0c0c0c0c02',
  secret: 'fedcba9876543210fedcba9876543210',
  token: 'platformToken2',
  aesKey: 'GFEDCBA9876543210zyxwvutsrqponmlkjihgfedcba',
};
/** A mini program that is not registered with the sandbox as an app: it exists only as an authorizer. */
export const AUTHORIZER = 'wx00000000000000c3';

export interface ReceivedEvent {
  query: Record<string, string>;
  body: string;
}

export interface EventServer {
  url: string;
  received: ReceivedEvent[];
  /** Waits until `n` events have arrived (real time, at most 3 s). */
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startEventServer(): Promise<EventServer> {
  const received: ReceivedEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      received.push({ query: Object.fromEntries(u.searchParams), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('success');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/wechat/component/events`,
    received,
    waitFor: async (n) => {
      const until = Date.now() + 3000;
      while (received.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      if (received.length < n) throw new Error(`only ${received.length} of ${n} events arrived`);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function sha1Sorted(parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(''))
    .digest('hex');
}

/** The text of an XML element, CDATA or not. */
export function xmlField(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${tag}>`).exec(xml);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Checks both signatures of a received event and decrypts it (WXBizMsgCrypt, written out here); returns the inner XML and the cipher's appid. */
export function openEvent(e: ReceivedEvent, p: PlatformRegistration = PLATFORM): { xml: string; appid: string } {
  const { signature, timestamp, nonce, msg_signature: msgSig, encrypt_type: encryptType } = e.query;
  if (encryptType !== 'aes') throw new Error(`encrypt_type ${encryptType}`);
  if (signature !== sha1Sorted([p.token, timestamp, nonce])) throw new Error('bad signature');
  const encrypt = xmlField(e.body, 'Encrypt');
  if (encrypt === undefined) throw new Error('no Encrypt');
  if (msgSig !== sha1Sorted([p.token, timestamp, nonce, encrypt])) throw new Error('bad msg_signature');
  const key = Buffer.from(`${p.aesKey}=`, 'base64');
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  const unpadded = plain.subarray(0, plain.length - plain[plain.length - 1]);
  const len = unpadded.readUInt32BE(16);
  return { xml: unpadded.subarray(20, 20 + len).toString('utf8'), appid: unpadded.subarray(20 + len).toString('utf8') };
}

/** POST to a /cgi-bin/component API with `?component_access_token=`. */
export async function component(h: Harness, path: string, token: string | undefined, body: unknown): Promise<WxBody> {
  const r = await h.http.post<WxBody>(`/cgi-bin/component/${path}`, body, { params: token === undefined ? {} : { component_access_token: token } });
  return r.data;
}

export async function componentToken(h: Harness, ticket: string, p: PlatformRegistration = PLATFORM): Promise<WxBody> {
  return component(h, 'api_component_token', undefined, { component_appid: p.componentAppid, component_appsecret: p.secret, component_verify_ticket: ticket });
}

export function str(b: WxBody, field: string): string {
  const v = b[field];
  if (typeof v !== 'string') throw new Error(`no ${field} in ${JSON.stringify(b)}`);
  return v;
}
