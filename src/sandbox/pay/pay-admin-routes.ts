/** Admin HTTP API of the sandbox's WeChat Pay, under /__sandbox/pay (plain statuses, `{error}` bodies). */
import { z } from 'zod';
import { guarded, guardedAsync, parse } from '../admin-input';
import { AdminError } from '../http';
import type { SbxRouter } from '../router';
import type { PayApi } from './types';

const merchantSchema = z.object({
  mchid: z.string().min(1),
  serialNo: z.string().min(1),
  merchantPublicKey: z.string().min(1),
  apiV3Key: z.string().min(1),
  mode: z.enum(['publicKey', 'certificate', 'both']).optional(),
});
const signingSchema = z.object({ use: z.enum(['publicKey', 'certificate']) });
const paySchema = z.object({
  mchid: z.string().min(1),
  payerTotal: z.number().int().min(0).optional(),
  bankType: z.string().min(1).optional(),
});
const succeedRefundSchema = z.object({ mchid: z.string().min(1).optional() });
const managedSchema = z.object({ appid: z.string().min(1), managed: z.boolean() });

export function payAdminRoutes(r: SbxRouter, pay: PayApi): void {
  r.post('/pay/merchants', (ctx) => {
    const m = parse(merchantSchema, ctx);
    ctx.status = 201;
    ctx.body = guarded(() => pay.registerMerchant(m));
  });
  r.post('/pay/merchants/:mchid/signing-serial', (ctx) => {
    const { use } = parse(signingSchema, ctx);
    guarded(() => pay.setSigningSerial(String(ctx.params.mchid), use));
    ctx.body = { ok: true };
  });

  r.get('/pay/orders/:mchid/:outTradeNo', (ctx) => {
    const o = pay.order(String(ctx.params.mchid), String(ctx.params.outTradeNo));
    if (!o) throw new AdminError(404, 'no such order');
    ctx.body = o;
  });
  r.post('/pay/orders/:outTradeNo/pay', async (ctx) => {
    const { mchid, ...opts } = parse(paySchema, ctx);
    const outTradeNo = String(ctx.params.outTradeNo);
    if (!pay.order(mchid, outTradeNo)) throw new AdminError(404, `no order ${outTradeNo} of merchant ${mchid}`);
    ctx.body = await guardedAsync(() => pay.payOrder(mchid, outTradeNo, opts));
  });

  r.get('/pay/refunds/:outRefundNo', (ctx) => {
    const refund = pay.refund(String(ctx.params.outRefundNo));
    if (!refund) throw new AdminError(404, 'no such refund');
    ctx.body = refund;
  });
  r.post('/pay/refunds/:outRefundNo/succeed', async (ctx) => {
    const { mchid } = parse(succeedRefundSchema, ctx);
    const outRefundNo = String(ctx.params.outRefundNo);
    if (!pay.refund(outRefundNo, mchid)) throw new AdminError(404, `no refund ${outRefundNo}`);
    const notification = await guardedAsync(() => pay.succeedRefund(outRefundNo, mchid));
    ctx.body = { refund: pay.refund(outRefundNo, mchid), notification: notification ?? null };
  });

  r.get('/pay/notifications', (ctx) => {
    ctx.body = { notifications: pay.notifications() };
  });
  r.post('/pay/notifications/:id/resend', async (ctx) => {
    const id = String(ctx.params.id);
    if (!pay.notifications().some((n) => n.id === id)) throw new AdminError(404, `no notification ${id}`);
    ctx.body = await pay.resendNotification(id);
  });

  r.get('/pay/shipping', (ctx) => {
    ctx.body = { uploads: pay.shippingUploads() };
  });
  r.post('/pay/trade-managed', (ctx) => {
    const { appid, managed } = parse(managedSchema, ctx);
    pay.setTradeManaged(appid, managed);
    ctx.body = { ok: true, appid, managed };
  });
}
