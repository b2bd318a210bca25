/**
 * GET /cgi-bin/componentloginpage (the authorization page the mini program's admin scans; here a small HTML page that
 * remembers the redirect_uri of its pre_auth_code) and GET /sns/component/jscode2session (wx.login codes of an
 * authorized mini program, exchanged by the platform).
 */
import { queryParam } from '../http';
import { appidFromParams, track } from '../pipeline';
import type { SbxRouter } from '../router';
import type { SandboxState } from '../state';
import { WxError } from '../wx-errors';
import { callingComponent, componentFromCall } from './platform-routes';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
}

export function componentLoginRoutes(router: SbxRouter, st: SandboxState): void {
  const ps = st.platform;

  router.get('/cgi-bin/componentloginpage', track(st, componentFromCall), (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    const component = queryParam(ctx, 'component_appid') ?? '';
    const code = queryParam(ctx, 'pre_auth_code') ?? '';
    const redirect = queryParam(ctx, 'redirect_uri') ?? '';
    if (!ps.registry.get(component)) {
      ctx.body = page('授权失败', `unknown component_appid ${component}`);
      return;
    }
    if (!/^https?:\/\//.test(redirect)) {
      ctx.body = page('授权失败', 'redirect_uri missing or not http(s)');
      return;
    }
    const opened = ps.preAuth.open(component, code, redirect);
    ctx.body = opened.ok
      ? page('公众平台帐号授权', `sandbox: the admin of a mini program would scan a QR code here to authorize ${component}; simulate it with sandbox.platform.authorize`)
      : page('授权失败', opened.reason);
  });

  router.get('/sns/component/jscode2session', track(st, appidFromParams), (ctx) => {
    const component = callingComponent(ctx, st, queryParam(ctx, 'component_appid'));
    const appid = queryParam(ctx, 'appid');
    if (!appid) throw new WxError(41002);
    if (!ps.authorizations.get(component, appid)) throw new WxError(61003);
    if (queryParam(ctx, 'grant_type') !== 'authorization_code') throw new WxError(40002);
    const code = queryParam(ctx, 'js_code');
    if (!code) throw new WxError(41008);
    ctx.body = st.login.exchange(appid, code);
  });
}
