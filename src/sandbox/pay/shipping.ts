/**
 * Mini-program order shipping (发货信息管理): upload_shipping_info checks and records, is_trade_managed flags.
 * Errors are WeChat errcodes (WxError), as the mini-program APIs answer them.
 */
import type { Clock } from '../../kernel/clock';
import { isObject } from '../http';
import { WxError } from '../wx-errors';
import type { Order, OrderBook } from './orders';
import { isRfc3339 } from './pay-errors';
import type { ShippingUpload } from './types';

export const SHIPPING_ERR = {
  orderNotFound: [10060001, '支付单不存在'],
  resendUsed: [10060003, '支付单已使用重新发货机会'],
  notShippable: [10060004, '支付单处于不可发货的状态'],
  badUploadTime: [268485216, '上传时间非法,请按照 RFC 3339 格式填写'],
  badDeliveryMode: [268485224, '发货模式非法'],
  unifiedNeedsOne: [268485228, '统一发货模式下,物流信息列表长度必须为1'],
} as const satisfies Record<string, readonly [number, string]>;

const err = (e: readonly [number, string]): WxError => new WxError(e[0], e[1]);
const formatError = (what: string): WxError => new WxError(47001, `data format error, ${what}`);

interface ShipState {
  /** A complete delivery was uploaded (delivery_mode 1, or 2 with is_all_delivered). */
  complete: boolean;
  /** Uploads after completion (WeChat allows one re-upload). */
  resends: number;
}

export class ShippingBook {
  private readonly uploads: ShippingUpload[] = [];
  private readonly state = new Map<string, ShipState>();
  private readonly managed = new Map<string, boolean>();

  constructor(
    private readonly clock: Clock,
    private readonly orders: OrderBook,
  ) {}

  setTradeManaged(appid: string, managed: boolean): void {
    if (typeof appid !== 'string' || appid === '') throw new TypeError('appid must be a non-empty string');
    if (typeof managed !== 'boolean') throw new TypeError('managed must be a boolean');
    this.managed.set(appid, managed);
  }

  isTradeManaged(appid: string): boolean {
    return this.managed.get(appid) ?? true;
  }

  list(): ShippingUpload[] {
    return structuredClone(this.uploads);
  }

  private findOrder(appid: string, key: Record<string, unknown>): Order {
    let order: Order | undefined;
    if (key.order_number_type === 1) {
      if (typeof key.mchid !== 'string' || typeof key.out_trade_no !== 'string') throw formatError('order_key needs mchid and out_trade_no when order_number_type is 1');
      order = this.orders.getOrder(key.mchid, key.out_trade_no);
    } else if (key.order_number_type === 2) {
      if (typeof key.transaction_id !== 'string') throw formatError('order_key needs transaction_id when order_number_type is 2');
      order = this.orders.byTransactionId(key.transaction_id);
    } else {
      throw formatError('order_key.order_number_type must be 1 or 2');
    }
    if (!order || order.appid !== appid) throw err(SHIPPING_ERR.orderNotFound);
    return order;
  }

  /** Validates and records an upload by the mini program `appid`. */
  upload(appid: string, body: Record<string, unknown>): void {
    if (!isObject(body.order_key)) throw formatError('order_key is required');
    const order = this.findOrder(appid, body.order_key);
    const logistics = body.logistics_type;
    if (typeof logistics !== 'number' || ![1, 2, 3, 4].includes(logistics)) throw formatError('logistics_type must be 1, 2, 3 or 4');
    if (body.delivery_mode !== 1 && body.delivery_mode !== 2) throw err(SHIPPING_ERR.badDeliveryMode);
    const list = body.shipping_list;
    if (!Array.isArray(list) || list.length < 1 || list.length > 15) throw formatError('shipping_list must hold 1 to 15 items');
    if (body.delivery_mode === 1 && list.length !== 1) throw err(SHIPPING_ERR.unifiedNeedsOne);
    for (const item of list) {
      if (!isObject(item) || typeof item.item_desc !== 'string' || item.item_desc === '' || [...item.item_desc].length > 120) {
        throw formatError('every shipping_list item needs item_desc (1-120 characters)');
      }
      if (logistics === 1 && (typeof item.tracking_no !== 'string' || item.tracking_no === '' || typeof item.express_company !== 'string' || item.express_company === '')) {
        throw formatError('express delivery (logistics_type 1) needs tracking_no and express_company');
      }
    }
    if (!isRfc3339(body.upload_time)) throw err(SHIPPING_ERR.badUploadTime);
    if (!isObject(body.payer) || typeof body.payer.openid !== 'string' || body.payer.openid === '') throw formatError('payer.openid is required');
    if (body.payer.openid !== order.openid) throw new WxError(40003);
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') throw err(SHIPPING_ERR.notShippable);

    const k = `${order.mchid}\n${order.out_trade_no}`;
    const s = this.state.get(k) ?? { complete: false, resends: 0 };
    if (s.complete) {
      if (s.resends >= 1) throw err(SHIPPING_ERR.resendUsed);
      s.resends += 1;
    }
    if (body.delivery_mode === 1 || body.is_all_delivered === true) s.complete = true;
    this.state.set(k, s);
    this.uploads.push({
      appid,
      at: this.clock.now(),
      mchid: order.mchid,
      out_trade_no: order.out_trade_no,
      transaction_id: order.transactionId ?? '',
      body: structuredClone(body),
    });
  }
}
