import { randomUUID } from 'node:crypto';
import type { Logger } from '../kernel/log';
import type { GatewayContext, GatewayMiddleware } from './context';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when it is safe to echo) and a child logger,
 * and writes one log line per request. Only the path is logged: query strings carry signatures
 * and tokens.
 */
export function requestLog(root: Logger, access: Logger = root): GatewayMiddleware {
  return async (ctx, next) => {
    const started = performance.now();
    const given = ctx.get('x-request-id');
    const reqId = given !== '' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    // Most requests never log anything of their own: the state builds the child logger when asked for.
    ctx.state = new RequestState(root, reqId) as unknown as GatewayContext['state'];
    ctx.set('X-Request-Id', reqId);
    try {
      await next();
    } finally {
      const durationMs = performance.now() - started;
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

/**
 * A request's ctx.state, with its logger made on first use (a child of the root logger carrying the
 * request id and, once known, the tenant's appid). A class, so the lazy logger is one getter on the
 * prototype, not a property defined on every request's state.
 */
class RequestState {
  // Private slots (#), so the state's own enumerable properties stay what middleware put there.
  #log: Logger | undefined;
  readonly #root: Logger;
  /** Set by the tenancy layer; declared (not defined) here, so a request without a tenant has none. */
  declare tenant?: { appid: string };

  constructor(
    root: Logger,
    readonly reqId: string,
  ) {
    this.#root = root;
  }

  get log(): Logger {
    return (this.#log ??= this.#root.child({ reqId: this.reqId, ...(this.tenant ? { appid: this.tenant.appid } : {}) }));
  }

  set log(v: Logger) {
    this.#log = v;
  }
}
