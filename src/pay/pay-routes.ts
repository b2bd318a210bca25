import Router from '@koa/router';
import type { GatewayContext, GatewayMiddleware, GatewayState } from '../http/context';
import { jsonInput, parseBody, parseQuery } from '../http/http-input';
import { readRawBody } from '../http/raw-body';
import { toAppError } from '../http/error-handler';
import { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { z } from 'zod';
import { tenantOf } from '../tenancy/tenant-context';
import type { ServiceKeys } from '../auth/service-keys';
import type { SessionStore } from '../auth/session-store';
import { requireServiceKey } from '../auth/service-key-auth';
import { sessionOrKey } from '../auth/session-auth';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { MerchantAccount, MerchantDirectory } from '../merchants/merchant-directory';
import { paySection } from './pay-section';
import { webhookSection } from '../delivery/webhook-section';
import { closeBody, createOrderBody, OUT_REFUND_NO, OUT_TRADE_NO, refundBody, shippingBody } from './pay-schemas';
import { orderView, refundView, type NotifyUrls, type OrderService, type PayRefundNotice } from './order-service';
import type { PlatformKeys } from './platform-keys';
import { openNotification } from './pay-notify';
import type { PayTransaction } from './pay-api';
import { isTradeManaged, uploadShipping } from './shipping';

export interface PayRouteDeps {
  orders: OrderService;
  merchants: MerchantDirectory;
  platformKeys: PlatformKeys;
  keys: ServiceKeys;
  sessions: SessionStore;
  clients: WeChatClients;
  clock: Clock;
  /** Counts each notification by outcome: "moved", "unchanged", or the code it was refused with. */
  onNotification?(appid: string, kind: 'transaction' | 'refund', outcome: string): void;
  /** PUBLIC_BASE_URL: where WeChat Pay reaches this gateway. */
  publicBaseUrl?: string;
}

/** Notification bodies are small JSON envelopes (a few KB); anything far larger is not WeChat Pay. */
const NOTIFY_MAX_BYTES = 64 * 1024;
const NOTIFY_BODY_TIMEOUT_MS = 10_000;
export const syncQuery = z.object({ sync: z.enum(['true', 'false']).optional() }).strict();

/**
 * WeChat Pay for a tenant (auth: "key" = service key, "session" = user session):
 * - POST /:appid/pay/orders                                   session or key -> 201 {outTradeNo, prepayId, payment}
 * - GET  /:appid/pay/orders/:outTradeNo[?sync=true]            key
 * - POST /:appid/pay/orders/:outTradeNo/close                  key
 * - POST /:appid/pay/orders/:outTradeNo/refunds                key -> 201 refund
 * - GET  /:appid/pay/orders/:outTradeNo/refunds/:outRefundNo   key
 * - POST /:appid/pay/orders/:outTradeNo/shipping               key -> {uploaded: true}
 * - GET  /:appid/pay/trade-management                          key -> {tradeManaged}
 * - POST /:appid/pay/notify, /:appid/pay/refund-notify         WeChat Pay (signed) -> 204, or {code:"FAIL"}
 */
export function payRoutes(d: PayRouteDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  const key = requireServiceKey(d.keys);
  const userOrKey = sessionOrKey(d.sessions, d.keys);
  const outTradeNo = (ctx: GatewayContext) => orderNumberIn(ctx.params.outTradeNo, OUT_TRADE_NO, 'outTradeNo');

  router.post('/:appid/pay/orders', userOrKey, jsonInput(8 * 1024), async (ctx) => {
    const body = parseBody(ctx, createOrderBody);
    const { appid, account, urls } = await payContext(d, ctx, true);
    const p = ctx.state.principal;
    let payerOpenid: string;
    if (p?.kind === 'user') {
      if (body.payer && body.payer.openid !== p.openid) throw new AppError(403, 'PAYER_MISMATCH', "a user session may only create orders the user pays; payer.openid is another user's");
      payerOpenid = p.openid;
    } else {
      if (!body.payer) throw new AppError(400, 'INVALID_BODY', 'payer.openid: required when a service key creates the order');
      payerOpenid = body.payer.openid;
    }
    const { order, payment } = await d.orders.create(
      appid,
      account,
      {
        outTradeNo: body.outTradeNo,
        description: body.description,
        amount: body.amount,
        payerOpenid,
        ...(body.attach !== undefined ? { attach: body.attach } : {}),
        ...(body.timeExpire !== undefined ? { timeExpire: body.timeExpire } : {}),
      },
      urls,
    );
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { outTradeNo: order.outTradeNo, prepayId: order.prepayId, state: order.state, payment };
  });

  router.get('/:appid/pay/orders/:outTradeNo', key, async (ctx) => {
    const { sync } = parseQuery(ctx, syncQuery);
    const no = outTradeNo(ctx);
    const { appid, account } = await payContext(d, ctx, false);
    ctx.body = orderView(sync === 'true' ? await d.orders.sync(appid, account, no, hasWebhook(ctx)) : await d.orders.get(appid, no));
  });

  router.post('/:appid/pay/orders/:outTradeNo/close', key, jsonInput(1024), async (ctx) => {
    const no = outTradeNo(ctx);
    parseBody(ctx, closeBody);
    const { appid, account } = await payContext(d, ctx, false);
    ctx.body = orderView(await d.orders.close(appid, account, no));
  });

  router.post('/:appid/pay/orders/:outTradeNo/refunds', key, jsonInput(4 * 1024), async (ctx) => {
    const no = outTradeNo(ctx);
    const body = parseBody(ctx, refundBody);
    const { appid, account, urls } = await payContext(d, ctx, true);
    const r = await d.orders.refund(appid, account, no, { outRefundNo: body.outRefundNo, amount: body.amount, ...(body.reason !== undefined ? { reason: body.reason } : {}) }, urls);
    ctx.status = 201;
    ctx.body = refundView(r);
  });

  router.get('/:appid/pay/orders/:outTradeNo/refunds/:outRefundNo', key, async (ctx) => {
    const no = outTradeNo(ctx);
    const refundNo = orderNumberIn(ctx.params.outRefundNo, OUT_REFUND_NO, 'outRefundNo');
    const { appid } = await payContext(d, ctx, false);
    ctx.body = refundView(await d.orders.getRefund(appid, no, refundNo));
  });

  router.post('/:appid/pay/orders/:outTradeNo/shipping', key, jsonInput(32 * 1024), async (ctx) => {
    const no = outTradeNo(ctx);
    const body = parseBody(ctx, shippingBody);
    const { appid } = await payContext(d, ctx, false);
    const order = await d.orders.get(appid, no);
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') throw new AppError(409, 'ORDER_NOT_PAID', `the order is ${order.state}; shipping is uploaded for paid orders`);
    await uploadShipping(d.clients.for(tenantOf(ctx)), order, body, d.clock.now());
    ctx.body = { uploaded: true, outTradeNo: no };
  });

  router.get('/:appid/pay/trade-management', key, async (ctx) => {
    payEnabled(ctx);
    ctx.body = { tradeManaged: await isTradeManaged(d.clients.for(tenantOf(ctx)), tenantOf(ctx).appid) };
  });

  // A payment notification and a refund notification differ only in what is applied.
  const notification =
    (kind: 'transaction' | 'refund', apply: (appid: string, account: MerchantAccount, resource: Record<string, unknown>, forward: boolean) => Promise<boolean>): GatewayMiddleware =>
    async (ctx) => {
      const { appid, account, body } = await notificationInput(d, ctx);
      const n = await openNotification(d.platformKeys, account, ctx.headers, body, kind);
      const moved = await apply(appid, account, n.resource, hasWebhook(ctx));
      ctx.state.log.info({ notificationId: n.id, eventType: n.eventType, moved }, `${kind} notification`);
      d.onNotification?.(appid, kind, moved ? 'moved' : 'unchanged');
      ctx.status = 204;
    };
  router.post(
    '/:appid/pay/notify',
    wechatPayAnswers(d, 'transaction'),
    notification('transaction', (appid, account, r, forward) => d.orders.applyTransaction(appid, account, r as PayTransaction, forward)),
  );
  router.post(
    '/:appid/pay/refund-notify',
    wechatPayAnswers(d, 'refund'),
    notification('refund', (appid, account, r, forward) => d.orders.applyRefund(appid, account, r as PayRefundNotice, forward)),
  );

  return router;
}

/** Events are queued only for tenants with a webhook (as pushes are): a queue nobody reads would only fill dead letters. */
const hasWebhook = (ctx: GatewayContext) => webhookSection.of(tenantOf(ctx)).webhook !== undefined;

/**
 * An outTradeNo or outRefundNo of the path: one that WeChat Pay could never have accepted names no
 * order, so it is 404 like an unknown one (the value is not echoed: it may be any junk).
 */
function orderNumberIn(value: string | undefined, rule: RegExp, name: string): string {
  if (typeof value !== 'string' || !rule.test(value)) throw new AppError(404, 'ORDER_NOT_FOUND', `${name}: no such order or refund (not a valid ${name})`);
  return value;
}

/** The tenant's pay settings; 404 when it takes no payments. */
function payEnabled(ctx: GatewayContext): { mchid: string } {
  const tenant = tenantOf(ctx);
  const pay = paySection.of(tenant).pay;
  if (!pay) throw new AppError(404, 'PAY_NOT_ENABLED', `mini program ${tenant.appid} does not take payments (no "pay" in its tenant file)`);
  return pay;
}

/** The tenant's merchant, and where WeChat Pay must send its notifications. */
async function payContext(d: PayRouteDeps, ctx: GatewayContext, needUrls: boolean): Promise<{ appid: string; account: MerchantAccount; urls: NotifyUrls }> {
  const tenant = tenantOf(ctx);
  const pay = payEnabled(ctx);
  const account = await d.merchants.find(pay.mchid);
  if (!account) throw new AppError(503, 'PAY_NOT_CONFIGURED', `merchant ${pay.mchid} is not applied (npm run tenants -- merchants apply)`, { headers: { 'Retry-After': '60' } });
  if (needUrls && !d.publicBaseUrl)
    throw new AppError(503, 'PAY_NOT_CONFIGURED', 'PUBLIC_BASE_URL is not set: WeChat Pay would have nowhere to send notifications', { headers: { 'Retry-After': '60' } });
  const base = `${(d.publicBaseUrl ?? '').replace(/\/+$/, '')}/${tenant.appid}/pay`;
  return { appid: tenant.appid, account, urls: { payment: `${base}/notify`, refund: `${base}/refund-notify` } };
}

async function notificationInput(d: PayRouteDeps, ctx: GatewayContext): Promise<{ appid: string; account: MerchantAccount; body: string }> {
  const { appid, account } = await payContext(d, ctx, false);
  if (!ctx.is('application/json')) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'a WeChat Pay notification is JSON');
  const raw = await readRawBody(ctx, NOTIFY_MAX_BYTES, NOTIFY_BODY_TIMEOUT_MS);
  return { appid, account, body: raw.toString('utf8') };
}

/**
 * WeChat Pay reads `{"code":"FAIL","message"}` on a failed notification (and retries it); the
 * gateway's own code is kept beside it. Status, headers, logging and store-outage tracking stay
 * with the one error handler; only the body's shape is WeChat Pay's.
 */
function wechatPayAnswers(d: PayRouteDeps, kind: 'transaction' | 'refund'): GatewayMiddleware {
  return async (ctx, next) => {
    ctx.state.errorBody = (e) => ({ code: 'FAIL', message: e.message, error: { code: e.code } });
    try {
      await next();
    } catch (err) {
      d.onNotification?.(tenantOf(ctx).appid, kind, toAppError(err).code);
      throw err;
    }
  };
}
