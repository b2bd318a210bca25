import { randomUUID } from 'node:crypto';
import type { Logger } from '../kernel/log';
import type { GatewayMiddleware } from './context';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when it is safe to echo) and a child logger,
 * and writes one log line per request. Only the path is logged: query strings carry signatures
 * and tokens.
 */
export function requestLog(root: Logger, access: Logger = root): GatewayMiddleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const given = ctx.get('x-request-id');
    const reqId = SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.reqId = reqId;
    // Most requests never log anything of their own: build the child logger only when asked for.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= root.child({ reqId, ...(ctx.state.tenant ? { appid: ctx.state.tenant.appid } : {}) })),
      set: (v: Logger) => {
        log = v;
      },
    });
    ctx.set('X-Request-Id', reqId);
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        reqId,
        appid: ctx.state.tenant?.appid,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round(durationMs * 100) / 100,
      };
      if (ctx.status >= 500) access.error(line, 'request');
      else access.info(line, 'request');
    }
  };
}
