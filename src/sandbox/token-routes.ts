/** GET /cgi-bin/token and POST /cgi-bin/stable_token. */
import { queryParam, wxJsonBody } from './http';
import { appidFromParams, track } from './pipeline';
import type { SbxRouter } from './router';
import type { SandboxState } from './state';
import { WxError } from './wx-errors';

export function tokenRoutes(router: SbxRouter, st: SandboxState): void {
  router.get('/cgi-bin/token', track(st, appidFromParams), (ctx) => {
    if (queryParam(ctx, 'grant_type') !== 'client_credential') throw new WxError(40002);
    const appid = st.apps.verify(queryParam(ctx, 'appid'), queryParam(ctx, 'secret'));
    ctx.body = st.tokens.issueClassic(appid);
  });

  router.post('/cgi-bin/stable_token', track(st, appidFromParams), (ctx) => {
    const body = wxJsonBody(ctx);
    if (body.grant_type !== 'client_credential') throw new WxError(40002);
    const appid = st.apps.verify(body.appid, body.secret);
    const force = body.force_refresh;
    if (force !== undefined && typeof force !== 'boolean') throw new WxError(47001, 'data format error, force_refresh must be a boolean');
    ctx.body = st.tokens.stable(appid, force === true);
  });
}
