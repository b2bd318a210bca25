/** GET /sns/jscode2session (no access token; appid + secret instead). */
import { queryParam } from './http';
import { appidFromParams, track } from './pipeline';
import type { SbxRouter } from './router';
import type { SandboxState } from './state';
import { WxError } from './wx-errors';

export function loginRoutes(router: SbxRouter, st: SandboxState): void {
  router.get('/sns/jscode2session', track(st, appidFromParams), (ctx) => {
    const appid = st.apps.verify(queryParam(ctx, 'appid'), queryParam(ctx, 'secret'));
    if (queryParam(ctx, 'grant_type') !== 'authorization_code') throw new WxError(40002);
    const code = queryParam(ctx, 'js_code');
    if (!code) throw new WxError(41008);
    ctx.body = st.login.exchange(appid, code);
  });
}
