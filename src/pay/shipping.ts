import { refuse, mapErrors, type ErrorTable } from '../transport/errcode-map';
import type { WeChatClient } from '../wechat/wechat-client';
import type { PayOrderDoc } from './order-store';
import type { ShippingBody } from './pay-schemas';

export const UPLOAD_SHIPPING_API = '/wxa/sec/order/upload_shipping_info';
export const TRADE_MANAGED_API = '/wxa/sec/order/is_trade_managed';

const SHIPPING_ERRORS: ErrorTable = {
  10060001: refuse(404, 'ORDER_NOT_FOUND', 'WeChat has no paid order with this outTradeNo for the mini program'),
  10060003: refuse(409, 'ORDER_CONFLICT', 'shipping information was already uploaded for this order'),
  10060012: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the shipping information'),
};

/** Beijing time, RFC 3339: what the shipping API expects for upload_time. */
export function beijingTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

/** Uploads an order's shipping information (required of mini programs that take payments), with the mini program's access token. */
export async function uploadShipping(client: WeChatClient, order: PayOrderDoc, s: ShippingBody, nowMs: number): Promise<void> {
  const body = {
    order_key: { order_number_type: 1, mchid: order.mchid, out_trade_no: order.outTradeNo },
    logistics_type: s.logisticsType,
    delivery_mode: s.deliveryMode,
    ...(s.isAllDelivered !== undefined ? { is_all_delivered: s.isAllDelivered } : {}),
    shipping_list: s.shippingList.map((i) => ({
      ...(i.trackingNo ? { tracking_no: i.trackingNo } : {}),
      ...(i.expressCompany ? { express_company: i.expressCompany } : {}),
      item_desc: i.itemDesc,
      ...(i.contact
        ? {
            contact: {
              ...(i.contact.consignorContact ? { consignor_contact: i.contact.consignorContact } : {}),
              ...(i.contact.receiverContact ? { receiver_contact: i.contact.receiverContact } : {}),
            },
          }
        : {}),
    })),
    upload_time: s.uploadTime ?? beijingTime(nowMs),
    payer: { openid: order.payerOpenid },
  };
  await mapErrors(SHIPPING_ERRORS, () => client.json(UPLOAD_SHIPPING_API, { method: 'POST', body }));
}

export async function isTradeManaged(client: WeChatClient, appid: string): Promise<boolean> {
  const r = await client.json(TRADE_MANAGED_API, { method: 'POST', body: { appid } });
  return r.is_trade_managed === true;
}
