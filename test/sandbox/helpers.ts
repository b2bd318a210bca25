/** Shared harness for sandbox tests: an in-process sandbox on 127.0.0.1 with a ManualClock. */
import axios, { type AxiosInstance } from 'axios';
import { ManualClock } from '../../src/kernel/clock';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';

export const APP = { appid: 'wx00000000000000a1', secret: 'secret-a1' };
export const APP2 = { appid: 'wx00000000000000b2', secret: 'secret-b2' };
/** 2024-01-01T00:00:00Z, so tests know where UTC day boundaries fall. */
export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
export const SEC = 1000;
export const MIN = 60 * SEC;

export interface Harness {
  sb: Sandbox;
  clock: ManualClock;
  url: string;
  http: AxiosInstance;
  close(): Promise<void>;
}

export interface WxBody {
  errcode?: number;
  errmsg?: string;
  [k: string]: unknown;
}

export async function startSandbox(opts: Omit<SandboxOptions, 'clock'> = {}): Promise<Harness> {
  const clock = new ManualClock(T0);
  const sb = createSandbox({ apps: [APP, APP2], ...opts, clock });
  const srv = await sb.listen(0, '127.0.0.1');
  const http = axios.create({ baseURL: srv.url, validateStatus: () => true, proxy: false });
  return { sb, clock, url: srv.url, http, close: () => srv.close() };
}

export async function classicToken(h: Harness, app = APP): Promise<WxBody> {
  const r = await h.http.get<WxBody>('/cgi-bin/token', {
    params: { grant_type: 'client_credential', appid: app.appid, secret: app.secret },
  });
  return r.data;
}

export async function stableToken(h: Harness, forceRefresh?: boolean, app = APP): Promise<WxBody> {
  const body: Record<string, unknown> = { grant_type: 'client_credential', appid: app.appid, secret: app.secret };
  if (forceRefresh !== undefined) body.force_refresh = forceRefresh;
  const r = await h.http.post<WxBody>('/cgi-bin/stable_token', body);
  return r.data;
}

/** POSTs a JSON body to an access-token API and returns the parsed answer. */
export async function api(h: Harness, path: string, token: string | undefined, body: unknown = {}): Promise<WxBody> {
  const r = await h.http.post<WxBody>(path, body, { params: token === undefined ? {} : { access_token: token } });
  return r.data;
}

/** errcode of a cheap API call made with the token (0 when it was accepted). */
export async function useToken(h: Harness, token: string): Promise<number> {
  const d = await api(h, '/wxa/generate_urllink', token, {});
  return d.errcode ?? -999;
}

export function tokenOf(b: WxBody): string {
  if (typeof b.access_token !== 'string') throw new Error(`no access_token in ${JSON.stringify(b)}`);
  return b.access_token;
}

/** WeChat error messages end with ` rid: <id>`. */
export const RID = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
