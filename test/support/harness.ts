/**
 * The end-to-end harness: the WeChat sandbox runs in the test process, the gateways are real child
 * processes (dist/src/main.js) on the test MongoDB and Redis, tenants are seeded with a service key.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import type { Connection } from 'mongoose';
import { createSandbox, type Sandbox, type SandboxOptions, type SandboxServer } from '../../src/sandbox';
import { Stores, startFleet, stopFleet } from './fleet';
import { makeTenant, type TenantFixture } from './tenant-fixtures';
import type { GatewayProcess } from './gateway-process';
import { request, type HttpResult } from './http';

/** A gateway's answer (the shared HTTP helper's result). */
export type Res = HttpResult;

export interface ReqOptions {
  /** Bearer credential (session token or service key). */
  auth?: string;
  /** A JSON value to send with Content-Type application/json. */
  json?: unknown;
  /** A raw body (string, bytes or FormData); give the content type in headers when needed. */
  body?: string | Buffer | FormData | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  gateway?: number;
  /** Needed by fetch for a stream body (sent chunked, without Content-Length). */
  duplex?: 'half';
}

export interface TenantHandle {
  t: TenantFixture;
  appid: string;
  key: string;
}

export interface Harness {
  sandbox: Sandbox;
  sbx: SandboxServer;
  stores: Stores;
  fleet: GatewayProcess[];
  redis: Redis;
  url(gateway?: number): string;
  req(method: string, path: string, o?: ReqOptions): Promise<Res>;
  tenant(overrides?: Partial<TenantFixture>): Promise<TenantHandle>;
  /** Logs in with `code` and returns the response (status 200 expected by callers that use .json.token). */
  login(appid: string, code: string, gateway?: number): Promise<Res>;
  /** Logs a fresh user in and returns its token and openid. */
  newUser(appid: string, name?: string): Promise<{ token: string; openid: string }>;
  users(): ReturnType<Connection['collection']>;
  close(): Promise<void>;
}

export async function startHarness(gateways = 1, env: Record<string, string> = {}, sandboxOptions: SandboxOptions = {}): Promise<Harness> {
  const sandbox = createSandbox(sandboxOptions);
  const sbx = await sandbox.listen(0, '127.0.0.1');
  const stores = await Stores.open();
  const fleet = await startFleet(gateways, env);
  const redis = new Redis(process.env.REDIS_URL ?? '', { lazyConnect: false, maxRetriesPerRequest: 1 });

  const h: Harness = {
    sandbox,
    sbx,
    stores,
    fleet,
    redis,
    url: (g = 0) => fleet[g]!.url,
    req: (method, path, o = {}) =>
      request(`${h.url(o.gateway)}${path}`, {
        method,
        ...(o.headers ? { headers: o.headers } : {}),
        ...(o.auth !== undefined ? { auth: o.auth } : {}),
        ...(o.json !== undefined ? { jsonBody: o.json } : {}),
        ...(o.body !== undefined ? { body: o.body as BodyInit } : {}),
        ...(o.duplex ? { duplex: o.duplex } : {}),
        timeoutMs: 30_000,
      }),
    async tenant(overrides = {}) {
      const t = makeTenant({ apiBase: sbx.url, ...overrides });
      sandbox.registerApp({ appid: t.appid, secret: t.secret });
      await stores.seed(t);
      return { t, appid: t.appid, key: await stores.key(t.appid) };
    },
    login: (appid, code, gateway) => h.req('POST', `/${appid}/auth/login`, { json: { code }, gateway }),
    async newUser(appid, name = 'u' + randomBytes(6).toString('hex')) {
      const r = await h.login(appid, `test:${name}`);
      if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
      return { token: r.json.token as string, openid: r.json.openid as string };
    },
    users: () => stores.conn.collection('users'),
    async close() {
      await stopFleet(fleet);
      redis.disconnect();
      await stores.close();
      await sbx.close();
    },
  };
  return h;
}

/** encryptedData as WeChat builds it: AES-128-CBC, PKCS#7, key and iv base64. */
export function encryptUserData(sessionKeyB64: string, data: unknown, ivBytes = randomBytes(16)): { encryptedData: string; iv: string } {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKeyB64, 'base64'), ivBytes);
  const ct = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  return { encryptedData: ct.toString('base64'), iv: ivBytes.toString('base64') };
}

export function rawDataSignature(rawData: string, sessionKeyB64: string): string {
  return createHash('sha1')
    .update(rawData + sessionKeyB64, 'utf8')
    .digest('hex');
}

export function sessionRedisKey(token: string): string {
  // The token's first 4 characters are its user's session bucket, the key's Redis Cluster hash tag.
  return `wxgate:session:{s:${token.slice(0, 4)}}:` + createHash('sha256').update(token).digest('hex');
}

export const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
