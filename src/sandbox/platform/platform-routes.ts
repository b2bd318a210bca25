/**
 * The third-party platform ("component") APIs of WeChat Open Platform under /cgi-bin/component/. Calls count under the
 * component appid (api_authorizer_token: under the authorizer appid); faults apply as everywhere.
 *
 * Behind `?component_access_token=`: 41001 missing, 40001 unknown or superseded, 42001 expired; the body's
 * component_appid must be the token's (41002 missing, 61011 another).
 */
import { UNKNOWN_APPID } from '../counters';
import { isObject, queryParam, wxJsonBody, type SbxContext } from '../http';
import { track, type AppidResolver } from '../pipeline';
import type { SbxRouter } from '../router';
import type { SandboxState } from '../state';
import { WxError } from '../wx-errors';
import type { Authorization } from './authorizations';

export const MAX_AUTHORIZER_LIST_COUNT = 500;

const bodyString = (ctx: SbxContext, field: string): string | undefined => {
  const b = ctx.state.body;
  return isObject(b) && typeof b[field] === 'string' && b[field] !== '' ? b[field] : undefined;
};

/** The body's component_appid, else the component token's owner, else `unknown`. */
export const componentFromCall: AppidResolver = (ctx, st) => {
  const fromBody = bodyString(ctx, 'component_appid') ?? queryParam(ctx, 'component_appid');
  if (fromBody) return fromBody;
  const t = queryParam(ctx, 'component_access_token');
  return (t && st.platform.componentTokens.ownerOf(t)) || UNKNOWN_APPID;
};

const authorizerFromBody: AppidResolver = (ctx) => bodyString(ctx, 'authorizer_appid') ?? UNKNOWN_APPID;

/** Verifies `?component_access_token=` and that the call's component_appid is the token's; returns the component appid. */
export function callingComponent(ctx: SbxContext, st: SandboxState, componentAppid: unknown): string {
  const owner = st.platform.componentTokens.verify(queryParam(ctx, 'component_access_token'));
  if (typeof componentAppid !== 'string' || componentAppid === '') throw new WxError(41002, 'component_appid missing');
  if (componentAppid !== owner) throw new WxError(61011);
  return owner;
}

function funcInfo(a: Authorization): { funcscope_category: { id: number } }[] {
  return a.funcIds.map((id) => ({ funcscope_category: { id } }));
}

export function platformRoutes(router: SbxRouter, st: SandboxState): void {
  const ps = st.platform;

  router.post('/cgi-bin/component/api_component_token', track(st, componentFromCall), (ctx) => {
    const body = wxJsonBody(ctx);
    const p = ps.registry.verify(body.component_appid, body.component_appsecret);
    ps.tickets.check(p.componentAppid, body.component_verify_ticket);
    ctx.body = ps.componentTokens.issue(p.componentAppid);
  });

  router.post('/cgi-bin/component/api_create_preauthcode', track(st, componentFromCall), (ctx) => {
    const body = wxJsonBody(ctx);
    const component = callingComponent(ctx, st, body.component_appid);
    ctx.body = ps.preAuth.issue(component);
  });

  router.post('/cgi-bin/component/api_query_auth', track(st, componentFromCall), (ctx) => {
    const body = wxJsonBody(ctx);
    const component = callingComponent(ctx, st, body.component_appid);
    const a = ps.authorizations.redeem(component, body.authorization_code);
    const t = st.tokens.issueAuthorizer(a.authorizerAppid, component);
    ctx.body = {
      authorization_info: {
        authorizer_appid: a.authorizerAppid,
        authorizer_access_token: t.access_token,
        expires_in: t.expires_in,
        authorizer_refresh_token: a.refreshToken,
        func_info: funcInfo(a),
      },
    };
  });

  router.post('/cgi-bin/component/api_authorizer_token', track(st, authorizerFromBody), (ctx) => {
    const body = wxJsonBody(ctx);
    const component = callingComponent(ctx, st, body.component_appid);
    if (typeof body.authorizer_appid !== 'string' || body.authorizer_appid === '') throw new WxError(41002, 'authorizer_appid missing');
    const rotate = ps.registry.get(component)?.rotateRefreshTokens === true;
    const a = ps.authorizations.refresh(component, body.authorizer_appid, body.authorizer_refresh_token, rotate);
    const t = st.tokens.issueAuthorizer(a.authorizerAppid, component);
    ctx.body = { authorizer_access_token: t.access_token, expires_in: t.expires_in, authorizer_refresh_token: a.refreshToken };
  });

  router.post('/cgi-bin/component/api_get_authorizer_list', track(st, componentFromCall), (ctx) => {
    const body = wxJsonBody(ctx);
    const component = callingComponent(ctx, st, body.component_appid);
    const offset = body.offset ?? 0;
    const count = body.count;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new WxError(47001, 'data format error, offset must be an integer >= 0');
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_AUTHORIZER_LIST_COUNT) {
      throw new WxError(47001, `data format error, count must be an integer from 1 to ${MAX_AUTHORIZER_LIST_COUNT}`);
    }
    const all = ps.authorizations.list(component);
    ctx.body = {
      total_count: all.length,
      list: all.slice(offset, offset + count).map((a) => ({ authorizer_appid: a.authorizerAppid, refresh_token: a.refreshToken, auth_time: Math.floor(a.authTime / 1000) })),
    };
  });
}
