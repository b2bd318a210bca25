/** POST /cgi-bin/message/subscribe/send and /cgi-bin/message/custom/send: validate, record. */
import { randomInt } from 'node:crypto';
import { apiCall } from './auth';
import { wxJsonBody } from './http';
import { validateCustom, validateSubscribe } from './messages';
import type { SbxRouter } from './router';
import type { SandboxState } from './state';

export function messageRoutes(router: SbxRouter, st: SandboxState): void {
  router.post('/cgi-bin/message/subscribe/send', ...apiCall(st), (ctx) => {
    const body = wxJsonBody(ctx);
    validateSubscribe(body);
    st.messages.record('subscribe', ctx.state.appid, body, st.clock.now());
    ctx.body = { errcode: 0, errmsg: 'ok', msgid: randomInt(1, 2 ** 47) };
  });

  router.post('/cgi-bin/message/custom/send', ...apiCall(st), (ctx) => {
    const body = wxJsonBody(ctx);
    validateCustom(body);
    st.messages.record('custom', ctx.state.appid, body, st.clock.now());
    ctx.body = { errcode: 0, errmsg: 'ok' };
  });
}
