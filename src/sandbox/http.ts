/** Koa plumbing shared by all sandbox routes: context types, body reading, error rendering. */
import type { Middleware, ParameterizedContext } from 'koa';
import { WxError, wxErrorBody } from './wx-errors';

export interface SandboxCtxState {
  /** Appid the call is attributed to (counters, faults); set by the tracking middleware. */
  appid: string;
  /** Parsed JSON body; undefined when there was none or it was multipart. */
  body: unknown;
  /** True when a non-empty body was not valid JSON. */
  bodyMalformed: boolean;
  /** The request body as received (utf8); '' when there was none or it was multipart. Signed APIs (WeChat Pay) verify it. */
  rawBody: string;
}

export type SbxContext = ParameterizedContext<SandboxCtxState>;
export type SbxMiddleware = Middleware<SandboxCtxState>;

/** A plain HTTP error for the admin API (WeChat endpoints use WxError instead). */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/**
 * Renders WxError as HTTP 200 `{errcode, errmsg}`, AdminError as `{error}` with its status, anything
 * else as 500 `{errcode:-1}`; unknown paths as 404 JSON. Drains unread request bodies.
 */
export function errorHandler(): SbxMiddleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = wxErrorBody(-1, `sandbox: no such endpoint ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      if (err instanceof WxError) {
        ctx.status = 200;
        ctx.body = err.toBody();
      } else if (err instanceof AdminError) {
        ctx.status = err.status;
        ctx.body = { error: err.message };
      } else {
        ctx.status = 500;
        ctx.body = wxErrorBody(-1, `system error: ${err instanceof Error ? err.message : String(err)}`);
      }
    } finally {
      if (!ctx.req.readableEnded) ctx.req.resume();
    }
  };
}

const BODY_LIMIT = 2 * 1024 * 1024;

/** Reads non-multipart request bodies and parses them as JSON whatever the content type (as WeChat does). */
export function readJsonBody(): SbxMiddleware {
  return async (ctx, next) => {
    ctx.state.body = undefined;
    ctx.state.bodyMalformed = false;
    ctx.state.rawBody = '';
    const hasBody = ctx.method !== 'GET' && ctx.method !== 'HEAD';
    if (hasBody && !ctx.is('multipart/*')) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of ctx.req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > BODY_LIMIT) throw new WxError(47001, 'data format error, request body too large');
        chunks.push(c);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      ctx.state.rawBody = text;
      if (text.trim() !== '') {
        try {
          ctx.state.body = JSON.parse(text) as unknown;
        } catch {
          ctx.state.bodyMalformed = true;
        }
      }
    }
    await next();
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON object body of a WeChat API call: 44002 when empty, 47001 when malformed or not an object. */
export function wxJsonBody(ctx: SbxContext): Record<string, unknown> {
  if (ctx.state.bodyMalformed) throw new WxError(47001);
  const b = ctx.state.body;
  if (b === undefined) throw new WxError(44002);
  if (!isObject(b)) throw new WxError(47001);
  return b;
}

/** A single query parameter as a string (first value when repeated), or undefined. */
export function queryParam(ctx: SbxContext, name: string): string | undefined {
  const v = ctx.query[name];
  if (Array.isArray(v)) return v[0];
  return v;
}
