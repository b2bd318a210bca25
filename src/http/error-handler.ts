import type { IncomingMessage } from 'node:http';
import { AppError, WeChatApiError } from '../kernel/errors';
import { storeUnavailable, unavailableStore, type StoreName } from '../infra/store-errors';
import type { GatewayMiddleware } from './context';

export interface ErrorHandlerOptions {
  /**
   * A request failed because a store is unavailable. Told instead of a log line per request: the
   * outage is logged once, when it starts and when it ends.
   */
  onStoreUnavailable?(store: StoreName, err: unknown): void;
}

/**
 * The one place where errors become responses. Clients get `{"error":{"code","message"}}` and
 * never a stack trace; unexpected errors are logged with their stack and answered with 500 INTERNAL.
 */
export function errorHandler(opts: ErrorHandlerOptions = {}): GatewayMiddleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError(404, 'NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && ctx.body === undefined) throw new AppError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`);
    } catch (err) {
      const e = toAppError(err);
      const store = e.status === 503 ? unavailableStore(err) : undefined;
      if (store) opts.onStoreUnavailable?.(store, err);
      // A bug (500) is logged with its stack; an intended 502/503 (WeChat or a store away, a full
      // spool) is an operating condition: one warn line with its code, no stack.
      else if (e.status === 500) ctx.state.log?.error({ err }, 'request failed');
      else if (e.status > 500) ctx.state.log?.warn({ code: e.code, err: (err as Error).message }, 'request not served');
      else if (err instanceof WeChatApiError) ctx.state.log?.warn({ errcode: err.errcode, rid: err.rid, api: err.api }, 'wechat error');
      else if (e.logDetails) ctx.state.log?.warn({ code: e.code, ...e.logDetails }, 'request refused');
      ctx.status = e.status;
      for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
      // A body over its limit is refused while the client is still sending it. Answered at once,
      // Node closes the connection with the rest unread, the kernel then resets it, and the client
      // (still writing) gets EPIPE or ECONNRESET instead of its 413. So the rest is read and dropped
      // first, within the same bounds as below; past them the answer goes out anyway.
      if (e.status === 413 && !ctx.req.complete) await drainBounded(ctx.req);
      // A refused request whose body was not read must not keep streaming it into the process: Node
      // discards the rest for keep-alive, which is bounded here (so an ordinary client still reads
      // its answer and a flood is cut off).
      if (!ctx.req.complete) {
        const req = ctx.req;
        ctx.res.once('finish', () => discardThenClose(req));
      }
      ctx.type = 'application/json';
      ctx.body = ctx.state.errorBody ? ctx.state.errorBody(e) : { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
    }
  };
}

const UNREAD_BODY_MAX_BYTES = 1024 * 1024;
const UNREAD_BODY_GRACE_MS = 1000;

/** Reads and drops the rest of a request body: until its end, UNREAD_BODY_MAX_BYTES or UNREAD_BODY_GRACE_MS, whichever comes first. */
function drainBounded(req: IncomingMessage): Promise<void> {
  if (req.destroyed || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('error', done);
      req.off('close', done);
      if (!req.complete) req.pause();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > UNREAD_BODY_MAX_BYTES) done();
    };
    const timer = setTimeout(done, UNREAD_BODY_GRACE_MS);
    timer.unref();
    req.on('data', onData);
    req.once('end', done);
    req.once('error', done);
    req.once('close', done);
    req.resume();
  });
}

/** Drops what is left of a refused request's body within the same bounds, then closes the connection if the body did not end. */
function discardThenClose(req: IncomingMessage): void {
  void drainBounded(req).then(() => {
    if (!req.complete) req.socket.destroy();
  });
}

/** Maps any thrown value to an AppError; exported so non-HTTP paths (CLI) can share the mapping. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // MongoDB or Redis unreachable, hung or not serving: the client may retry, it is not a bug.
  if (unavailableStore(err)) return storeUnavailable(err);
  if (err instanceof WeChatApiError) {
    return new AppError(502, 'WECHAT_API_ERROR', `WeChat answered errcode ${err.errcode} on ${err.api}`, {
      details: { errcode: err.errcode, ...(err.rid ? { rid: err.rid } : {}) },
    });
  }
  // Errors raised by body parsers (koa-bodyparser / raw-body / http-errors) carry a status and type.
  if (typeof err === 'object' && err !== null) {
    const { status, type, expose, code } = err as { status?: unknown; type?: unknown; expose?: unknown; code?: unknown };
    // A corrupt gzip/deflate request body surfaces as a zlib error without an HTTP status.
    if (typeof code === 'string' && code.startsWith('Z_')) return new AppError(400, 'BAD_REQUEST', 'the request body could not be decompressed');
    if (err instanceof SyntaxError && status === 400) {
      // The JSON parser (co-body's bourne) refuses prototype-poisoning keys with a SyntaxError too.
      if (/prototype/i.test(err.message)) return new AppError(400, 'INVALID_BODY', 'body: __proto__ and constructor.prototype keys are not allowed');
      return new AppError(400, 'MALFORMED_JSON', 'request body is not valid JSON (an object is expected)');
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      if (type === 'entity.too.large' || status === 413) return new AppError(413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
      if (type === 'entity.parse.failed') return new AppError(400, 'MALFORMED_JSON', 'request body is not valid JSON');
      if (status === 415) return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
      return new AppError(status, 'BAD_REQUEST', expose === true && err instanceof Error ? err.message : 'bad request');
    }
  }
  return new AppError(500, 'INTERNAL', 'internal error');
}
