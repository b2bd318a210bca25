/** The one access-token check used by every API route: 41001 missing, 40001 invalid / not latest, 42001 expired. */
import { queryParam, type SbxMiddleware } from './http';
import { appidFromToken, track } from './pipeline';
import type { SandboxState } from './state';
import { WxError } from './wx-errors';

export function requireAccessToken(st: SandboxState): SbxMiddleware {
  return async (ctx, next) => {
    const token = queryParam(ctx, 'access_token');
    if (!token) throw new WxError(41001);
    const c = st.tokens.check(token);
    if (!c.ok) throw new WxError(c.errcode);
    ctx.state.appid = c.appid;
    await next();
  };
}

/** Middleware chain of an access-token API: track under the token's appid, faults, then the token check. */
export function apiCall(st: SandboxState): SbxMiddleware[] {
  return [track(st, appidFromToken), requireAccessToken(st)];
}
