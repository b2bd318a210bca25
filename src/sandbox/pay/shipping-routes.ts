/** Mini-program order shipping APIs behind an access token: upload_shipping_info, is_trade_managed. */
import { apiCall } from '../auth';
import { wxJsonBody } from '../http';
import type { SbxRouter } from '../router';
import type { SandboxState } from '../state';

export function shippingRoutes(router: SbxRouter, st: SandboxState): void {
  router.post('/wxa/sec/order/upload_shipping_info', ...apiCall(st), (ctx) => {
    st.pay.shipping.upload(ctx.state.appid, wxJsonBody(ctx));
    ctx.body = { errcode: 0, errmsg: 'ok' };
  });

  router.post('/wxa/sec/order/is_trade_managed', ...apiCall(st), (ctx) => {
    const body = wxJsonBody(ctx);
    const appid = typeof body.appid === 'string' && body.appid !== '' ? body.appid : ctx.state.appid;
    ctx.body = { errcode: 0, errmsg: 'ok', is_trade_managed: st.pay.shipping.isTradeManaged(appid) };
  });
}
