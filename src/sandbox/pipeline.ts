/** Per-call steps every WeChat endpoint runs first: attribute to an appid, count, apply injected faults. */
import { setTimeout as sleep } from 'node:timers/promises';
import { UNKNOWN_APPID } from './counters';
import { isObject, queryParam, type SbxContext, type SbxMiddleware } from './http';
import type { SandboxState } from './state';
import { WxError } from './wx-errors';

export type AppidResolver = (ctx: SbxContext, st: SandboxState) => string;

/** For token and login endpoints: the `appid` of the query, else of the JSON body. */
export const appidFromParams: AppidResolver = (ctx) => {
  const q = queryParam(ctx, 'appid');
  if (q) return q;
  const b = ctx.state.body;
  if (isObject(b) && typeof b.appid === 'string' && b.appid !== '') return b.appid;
  return UNKNOWN_APPID;
};

/** For APIs called with `?access_token=`: the token's appid (even if no longer valid), else `unknown`. */
export const appidFromToken: AppidResolver = (ctx, st) => {
  const t = queryParam(ctx, 'access_token');
  return (t && st.tokens.ownerOf(t)) || UNKNOWN_APPID;
};

/**
 * Attributes the call, counts it under (path without trailing slash, appid), then applies the first matching injected
 * fault: waits `delayMs` of real time, then answers `errcode` if the fault has one.
 */
export function track(st: SandboxState, resolve: AppidResolver): SbxMiddleware {
  return async (ctx, next) => {
    const appid = resolve(ctx, st);
    ctx.state.appid = appid;
    const endpoint = ctx.path.length > 1 ? ctx.path.replace(/\/+$/, '') : ctx.path;
    st.counters.record(endpoint, appid);
    const fault = st.faults.take(endpoint, appid);
    if (fault) {
      if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs);
      if (fault.errcode !== undefined) throw new WxError(fault.errcode, fault.errmsg);
      if (fault.payError !== undefined) throw new WxError(-1, fault.errmsg); // a pay-only fault that hit another endpoint
    }
    await next();
  };
}
