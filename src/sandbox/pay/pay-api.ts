/** `sandbox.pay`: the programmatic face of the sandbox's WeChat Pay. */
import type { PayState } from './pay-state';
import type { PayApi } from './types';

export function createPayApi(ps: PayState): PayApi {
  const { merchants, orders, notifier, shipping } = ps;
  return {
    registerMerchant: (m) => merchants.register(m),
    setSigningSerial: (mchid, use) => merchants.setSigningSerial(mchid, use),

    payOrder: async (mchid, outTradeNo, opts) => {
      const order = orders.pay(mchid, outTradeNo, opts);
      return notifier.send({
        mchid,
        url: order.notify_url,
        eventType: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        originalType: 'transaction',
        plaintext: { ...orders.transaction(order) },
      });
    },
    succeedRefund: async (outRefundNo, mchid) => {
      const r = orders.succeedRefund(outRefundNo, mchid);
      if (r.notifyUrl === undefined) return undefined;
      return notifier.send({ mchid: r.mchid, url: r.notifyUrl, eventType: 'REFUND.SUCCESS', summary: '退款成功', originalType: 'refund', plaintext: orders.refundNotice(r) });
    },

    notifications: () => notifier.list(),
    resendNotification: (id) => notifier.resend(id),

    order: (mchid, outTradeNo) => {
      const o = orders.getOrder(mchid, outTradeNo);
      return o && orders.transaction(o);
    },
    refund: (outRefundNo, mchid) => {
      const r = orders.getRefund(outRefundNo, mchid);
      return r && orders.refundView(r);
    },

    shippingUploads: () => shipping.list(),
    setTradeManaged: (appid, managed) => shipping.setTradeManaged(appid, managed),
  };
}
