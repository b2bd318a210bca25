import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type Method } from 'axios';
import { WeChatApiError } from '../kernel/errors';
import { wechatAgents } from './http-agent';
import type { OutboundPolicy } from './address-policy';

export interface WeChatRequest {
  baseUrl: string;
  method: Method;
  /** Path starting with '/', no query. */
  path: string;
  query?: Record<string, string>;
  /** A JSON value, raw bytes, or nothing. */
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export type WeChatResponse =
  { kind: 'json'; status: number; data: Record<string, unknown>; raw: Buffer } | { kind: 'binary'; status: number; contentType: string; headers: Record<string, string>; stream: Readable };

export class WeChatTransportError extends Error {
  constructor(
    readonly api: string,
    message: string,
  ) {
    super(`WeChat ${api} unreachable: ${message}`);
    this.name = 'WeChatTransportError';
  }
}

/**
 * The HTTP edge to WeChat: keep-alive, timeout, JSON vs binary by Content-Type. It never logs or
 * puts URLs in errors (queries carry secrets and tokens); errors name the API path only.
 */
export class WeChatHttp {
  private readonly axios: AxiosInstance;

  constructor(
    private readonly defaultTimeoutMs: number,
    policy: OutboundPolicy,
  ) {
    const { httpAgent, httpsAgent } = wechatAgents(policy);
    this.axios = axios.create({
      httpAgent,
      httpsAgent,
      responseType: 'stream',
      validateStatus: () => true,
      maxRedirects: 0,
      // Bodies are passed through as given; axios must not rewrite them.
      transformRequest: [(data: unknown) => data],
      transitional: { silentJSONParsing: false, forcedJSONParsing: false, clarifyTimeoutError: true },
      proxy: false,
    });
  }

  /** Sends the request; a failure before the answer's headers is a WeChatTransportError naming the API path only. */
  private async open(req: WeChatRequest, data: unknown, headers: Record<string, string>, timeoutMs: number) {
    try {
      return await this.axios.request<Readable>({
        // Built by concatenation: a caller's path ("//host/x" included) can never name another
        // host, and it is cheaper than axios merging baseURL and serialising params per call.
        url: req.baseUrl.replace(/\/+$/, '') + pathAndQuery(req.path, req.query),
        method: req.method,
        data,
        headers,
        timeout: timeoutMs,
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new WeChatTransportError(req.path, e.code ?? e.message ?? 'request failed');
    }
  }

  async send(req: WeChatRequest): Promise<WeChatResponse> {
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    let data: unknown = req.body;
    if (req.body !== undefined && !Buffer.isBuffer(req.body) && !isStream(req.body)) {
      data = JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await this.open(req, data, headers, timeoutMs);
    const contentType = String(res.headers['content-type'] ?? '');
    if (isJsonType(contentType) || contentType.startsWith('text/plain')) {
      // axios's timeout stops at the headers of a streamed response; the body gets what is left.
      let raw: Buffer;
      try {
        raw = await readAll(res.data, 16 * 1024 * 1024, Math.max(1, deadline - Date.now()));
      } catch (err) {
        throw new WeChatTransportError(req.path, (err as Error).message);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new WeChatTransportError(req.path, `HTTP ${res.status} with an unparsable body`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new WeChatTransportError(req.path, `HTTP ${res.status} with a non-object JSON body`);
      }
      return { kind: 'json', status: res.status, data: parsed as Record<string, unknown>, raw };
    }
    if (res.status >= 400) {
      res.data.resume();
      throw new WeChatTransportError(req.path, `HTTP ${res.status}`);
    }
    const passHeaders: Record<string, string> = {};
    for (const h of ['content-disposition', 'content-length', 'cache-control']) {
      const v = res.headers[h];
      if (typeof v === 'string') passHeaders[h] = v;
    }
    return { kind: 'binary', status: res.status, contentType: contentType || 'application/octet-stream', headers: passHeaders, stream: res.data };
  }

  /**
   * Sends one request and reads the whole answer whatever its type or status, bounded in size and
   * time: for APIs whose answers are verified over their exact bytes (WeChat Pay signs them).
   */
  async exchange(req: WeChatRequest & { body?: string }, limitBytes = 1024 * 1024): Promise<RawExchange> {
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const res = await this.open(req, req.body, req.headers ?? {}, timeoutMs);
    let body: Buffer;
    try {
      body = await readAll(res.data, limitBytes, Math.max(1, deadline - Date.now()));
    } catch (err) {
      throw new WeChatTransportError(req.path, (err as Error).message);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    return { status: res.status, headers, body };
  }
}

/** A path with its query as sent: signed APIs (WeChat Pay) sign exactly this string. */
export function pathAndQuery(path: string, query?: Record<string, string>): string {
  return path + (query && Object.keys(query).length ? '?' + new URLSearchParams(query).toString() : '');
}

/** A whole answer as received: status, headers (lower-case names) and the exact body bytes. */
export interface RawExchange {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Throws the WeChatApiError carried by a JSON answer whose errcode is non-zero. */
export function assertOk(api: string, data: Record<string, unknown>): void {
  const errcode = data.errcode;
  if (typeof errcode === 'number' && errcode !== 0) {
    throw new WeChatApiError(errcode, typeof data.errmsg === 'string' ? data.errmsg : '', api);
  }
}

export function isJsonType(contentType: string): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType);
}

function isStream(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}

/** Reads a whole stream, bounded in size and, when given, in time (the stream is destroyed). */
export async function readAll(stream: Readable, limit = 16 * 1024 * 1024, timeoutMs?: number): Promise<Buffer> {
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => stream.destroy(new Error('response body timed out')), timeoutMs);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > limit) {
        stream.destroy();
        throw new Error('response too large');
      }
      chunks.push(b);
    }
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
  }
}
