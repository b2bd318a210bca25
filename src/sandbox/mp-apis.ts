/**
 * Mini-program APIs behind an access token: phone number, unlimited wxacode, URL link, URL scheme,
 * msg_sec_check v2.
 */
import { randomInt } from 'node:crypto';
import { apiCall } from './auth';
import { isObject, wxJsonBody } from './http';
import type { SbxRouter } from './router';
import type { SandboxState } from './state';
import { ENV_VERSIONS, parseWxaCodeArgs, renderWxaCode } from './wxacode';
import { WxError } from './wx-errors';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** Common checks of generate_urllink / generatescheme targets: 40165 path with a query, 40097 bad env_version. */
function checkTarget(path: unknown, envVersion: unknown): void {
  if (path !== undefined && (typeof path !== 'string' || path.includes('?'))) throw new WxError(40165, 'invalid weapp pagepath');
  if (envVersion !== undefined && !ENV_VERSIONS.includes(String(envVersion))) throw new WxError(40097);
}

export function mpApiRoutes(router: SbxRouter, st: SandboxState): void {
  router.post('/wxa/business/getuserphonenumber', ...apiCall(st), (ctx) => {
    const body = wxJsonBody(ctx);
    if (typeof body.code !== 'string' || body.code === '') throw new WxError(47001);
    ctx.body = { errcode: 0, errmsg: 'ok', phone_info: st.phones.redeem(ctx.state.appid, body.code) };
  });

  router.post('/wxa/getwxacodeunlimit', ...apiCall(st), (ctx) => {
    const args = parseWxaCodeArgs(wxJsonBody(ctx));
    ctx.type = 'image/png';
    ctx.body = renderWxaCode(args);
  });

  router.post('/wxa/generate_urllink', ...apiCall(st), (ctx) => {
    const body = wxJsonBody(ctx);
    checkTarget(body.path, body.env_version);
    ctx.body = { errcode: 0, errmsg: 'ok', url_link: `https://wxaurl.cn/${randomAlnum(11)}` };
  });

  router.post('/wxa/generatescheme', ...apiCall(st), (ctx) => {
    // WeChat accepts an empty body here (scheme to the home page).
    const body = ctx.state.body === undefined && !ctx.state.bodyMalformed ? {} : wxJsonBody(ctx);
    const jump = body.jump_wxa;
    if (jump !== undefined) {
      if (!isObject(jump)) throw new WxError(47001);
      checkTarget(jump.path, jump.env_version);
    }
    ctx.body = { errcode: 0, errmsg: 'ok', openlink: `weixin://dl/business/?t=${randomAlnum(11)}` };
  });

  router.post('/wxa/msg_sec_check', ...apiCall(st), (ctx) => {
    const body = wxJsonBody(ctx);
    if (body.version !== 2) throw new WxError(47001, 'data format error, only version 2 is supported');
    if (typeof body.openid !== 'string' || body.openid === '') throw new WxError(40003);
    if (![1, 2, 3, 4].includes(Number(body.scene))) throw new WxError(47001, 'data format error, invalid scene');
    if (typeof body.content !== 'string' || body.content.length > 2500) throw new WxError(47001);
    ctx.body = st.content.check(body.content);
  });
}
