/**
 * Orders and refunds of the sandbox's WeChat Pay: JSAPI prepay (idempotent per out_trade_no), query, close,
 * payment, refunds. Errors are PayErrors with WeChat Pay's codes.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../../kernel/clock';
import { isObject } from '../http';
import { invalidRequest, isRfc3339, paramError, PayError, payTime } from './pay-errors';
import type { PayOrderOptions, PayRefund, PayTransaction, TradeState } from './types';

export interface JsapiParams {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  attach?: string;
  notify_url: string;
  total: number;
  currency: string;
  openid: string;
}

export interface Order extends JsapiParams {
  prepayId: string;
  state: TradeState;
  createdAt: number;
  transactionId?: string;
  successAt?: number;
  bankType?: string;
  payerTotal?: number;
}

export interface RefundParams {
  out_trade_no?: string;
  transaction_id?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  refund: number;
  total: number;
  currency: string;
}

export interface Refund {
  mchid: string;
  refundId: string;
  outRefundNo: string;
  outTradeNo: string;
  transactionId: string;
  reason?: string;
  notifyUrl?: string;
  refund: number;
  total: number;
  payerTotal: number;
  payerRefund: number;
  currency: string;
  status: 'PROCESSING' | 'SUCCESS';
  createdAt: number;
  successAt?: number;
}

const STATE_DESC: Record<TradeState, string> = { NOTPAY: '订单未支付', SUCCESS: '支付成功', CLOSED: '订单已关闭', REFUND: '转入退款' };
const OUT_TRADE_NO = /^[0-9A-Za-z_\-*]{6,32}$/;
const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;

function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(10));
  return s;
}

function str(body: Record<string, unknown>, field: string, opts: { max: number; optional?: boolean }): string | undefined {
  const v = body[field];
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== 'string' || v === '') throw paramError(`输入源“/body/${field}”映射到字段“${field}”必填性规则校验失败,此字段为必填项`);
  if ([...v].length > opts.max) throw paramError(`输入源“/body/${field}”映射到字段“${field}”长度超过限制(${opts.max})`);
  return v;
}

function notifyUrl(v: string, field: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw paramError(`${field}格式不正确`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.search !== '') throw paramError(`${field}格式不正确,须为不带参数的http(s)地址`);
  return v;
}

function amountTotal(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw paramError(`${field}须为大于等于1的整数(单位:分)`);
  return v;
}

function currency(v: unknown, required: boolean): string {
  if (v === undefined && !required) return 'CNY';
  if (v !== 'CNY') throw paramError('currency须为CNY');
  return v;
}

/** Validates a JSAPI prepay body; `mchid` is the caller's (from the Authorization header). */
export function parseJsapi(body: Record<string, unknown>, mchid: string): JsapiParams {
  const appid = str(body, 'appid', { max: 32 }) as string;
  const bodyMchid = str(body, 'mchid', { max: 32 }) as string;
  if (bodyMchid !== mchid) throw paramError('请求中的mchid与签名的商户号不一致');
  const description = str(body, 'description', { max: 127 }) as string;
  const outTradeNo = str(body, 'out_trade_no', { max: 32 }) as string;
  if (!OUT_TRADE_NO.test(outTradeNo)) throw paramError('out_trade_no须为6-32位数字、大小写字母或_-*');
  const timeExpire = str(body, 'time_expire', { max: 64, optional: true });
  if (timeExpire !== undefined && !isRfc3339(timeExpire)) throw paramError('time_expire须为rfc3339格式,如2018-06-08T10:34:56+08:00');
  const attach = str(body, 'attach', { max: 128, optional: true });
  const notify = notifyUrl(str(body, 'notify_url', { max: 255 }) as string, 'notify_url');
  if (!isObject(body.amount)) throw paramError('输入源“/body/amount”映射到字段“amount”必填性规则校验失败,此字段为必填项');
  const total = amountTotal(body.amount.total, 'amount.total');
  const cur = currency(body.amount.currency, false);
  if (!isObject(body.payer)) throw paramError('输入源“/body/payer”映射到字段“payer”必填性规则校验失败,此字段为必填项');
  const openid = str(body.payer, 'openid', { max: 128 }) as string;
  return { appid, mchid, description, out_trade_no: outTradeNo, time_expire: timeExpire, attach, notify_url: notify, total, currency: cur, openid };
}

export function parseRefund(body: Record<string, unknown>): RefundParams {
  const outTradeNo = str(body, 'out_trade_no', { max: 32, optional: true });
  const transactionId = str(body, 'transaction_id', { max: 32, optional: true });
  if (outTradeNo === undefined && transactionId === undefined) throw paramError('transaction_id和out_trade_no必须二选一进行传参');
  const outRefundNo = str(body, 'out_refund_no', { max: 64 }) as string;
  if (!OUT_REFUND_NO.test(outRefundNo)) throw paramError('out_refund_no须为1-64位数字、大小写字母或_-|*@');
  const reason = str(body, 'reason', { max: 80, optional: true });
  const notify = str(body, 'notify_url', { max: 256, optional: true });
  if (!isObject(body.amount)) throw paramError('输入源“/body/amount”映射到字段“amount”必填性规则校验失败,此字段为必填项');
  const refund = amountTotal(body.amount.refund, 'amount.refund');
  const total = amountTotal(body.amount.total, 'amount.total');
  const cur = currency(body.amount.currency, true);
  return {
    out_trade_no: outTradeNo,
    transaction_id: transactionId,
    out_refund_no: outRefundNo,
    reason,
    notify_url: notify === undefined ? undefined : notifyUrl(notify, 'notify_url'),
    refund,
    total,
    currency: cur,
  };
}

function sameParams(a: JsapiParams, b: JsapiParams): boolean {
  const keys: (keyof JsapiParams)[] = ['appid', 'mchid', 'description', 'out_trade_no', 'time_expire', 'attach', 'notify_url', 'total', 'currency', 'openid'];
  return keys.every((k) => a[k] === b[k]);
}

export class OrderBook {
  private readonly orders = new Map<string, Order>();
  private readonly refunds = new Map<string, Refund>();

  constructor(private readonly clock: Clock) {}

  private static key(mchid: string, no: string): string {
    return `${mchid}\n${no}`;
  }

  getOrder(mchid: string, outTradeNo: string): Order | undefined {
    return this.orders.get(OrderBook.key(mchid, outTradeNo));
  }

  byTransactionId(transactionId: string): Order | undefined {
    for (const o of this.orders.values()) if (o.transactionId === transactionId) return o;
    return undefined;
  }

  /** The refund of the merchant, or of any merchant when mchid is omitted. */
  getRefund(outRefundNo: string, mchid?: string): Refund | undefined {
    if (mchid !== undefined) return this.refunds.get(OrderBook.key(mchid, outRefundNo));
    for (const r of this.refunds.values()) if (r.outRefundNo === outRefundNo) return r;
    return undefined;
  }

  /** The prepay_id: the same for a repeated identical request; errors for a changed one or a paid/closed order. */
  prepay(p: JsapiParams): string {
    const existing = this.getOrder(p.mchid, p.out_trade_no);
    if (existing) {
      if (existing.state === 'SUCCESS' || existing.state === 'REFUND') throw new PayError(400, 'ORDERPAID', '该订单已支付');
      if (existing.state === 'CLOSED') throw new PayError(400, 'ORDER_CLOSED', '订单已关闭');
      if (!sameParams(existing, p)) throw invalidRequest('201 商户订单号重复');
      return existing.prepayId;
    }
    const now = this.clock.now();
    const stamp = payTime(now).slice(0, 19).replace(/\D/g, '');
    const order: Order = { ...p, prepayId: `wx${stamp}${digits(20)}`, state: 'NOTPAY', createdAt: now };
    this.orders.set(OrderBook.key(p.mchid, p.out_trade_no), order);
    return order.prepayId;
  }

  /** The order or 404 ORDER_NOT_EXIST. */
  mustGet(mchid: string, outTradeNo: string): Order {
    const o = this.getOrder(mchid, outTradeNo);
    if (!o) throw new PayError(404, 'ORDER_NOT_EXIST', '订单不存在');
    return o;
  }

  close(mchid: string, outTradeNo: string): void {
    const o = this.mustGet(mchid, outTradeNo);
    if (o.state === 'SUCCESS' || o.state === 'REFUND') throw new PayError(400, 'ORDERPAID', '订单已支付');
    o.state = 'CLOSED';
  }

  /** NOTPAY -> SUCCESS. TypeError when the order is unknown or not NOTPAY. */
  pay(mchid: string, outTradeNo: string, opts: PayOrderOptions = {}): Order {
    const o = this.getOrder(mchid, outTradeNo);
    if (!o) throw new TypeError(`no order ${outTradeNo} of merchant ${mchid}`);
    if (o.state !== 'NOTPAY') throw new TypeError(`order ${outTradeNo} is ${o.state}, not NOTPAY`);
    const payerTotal = opts.payerTotal ?? o.total;
    if (!Number.isInteger(payerTotal) || payerTotal < 0 || payerTotal > o.total) throw new TypeError('payerTotal must be an integer between 0 and the order total');
    o.state = 'SUCCESS';
    o.transactionId = `4200${digits(24)}`;
    o.successAt = this.clock.now();
    o.bankType = opts.bankType ?? 'OTHERS';
    o.payerTotal = payerTotal;
    return o;
  }

  transaction(o: Order): PayTransaction {
    const paid = o.transactionId !== undefined;
    const t: PayTransaction = {
      appid: o.appid,
      mchid: o.mchid,
      out_trade_no: o.out_trade_no,
      trade_type: 'JSAPI',
      trade_state: o.state,
      trade_state_desc: STATE_DESC[o.state],
      payer: { openid: o.openid },
      amount: paid ? { total: o.total, payer_total: o.payerTotal, currency: o.currency, payer_currency: o.currency } : { total: o.total, currency: o.currency, payer_currency: o.currency },
    };
    if (paid) {
      t.transaction_id = o.transactionId;
      t.bank_type = o.bankType;
      t.success_time = payTime(o.successAt ?? this.clock.now());
    }
    if (o.attach !== undefined) t.attach = o.attach;
    return t;
  }

  /** Creates a refund (PROCESSING), or returns the existing one for a repeated out_refund_no. */
  createRefund(mchid: string, p: RefundParams): Refund {
    const order = p.out_trade_no !== undefined ? this.getOrder(mchid, p.out_trade_no) : this.byTransactionId(p.transaction_id as string);
    if (!order || order.mchid !== mchid || order.transactionId === undefined) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    if (p.transaction_id !== undefined && p.transaction_id !== order.transactionId) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    const existing = this.refunds.get(OrderBook.key(mchid, p.out_refund_no));
    if (existing) {
      if (existing.outTradeNo !== order.out_trade_no || existing.refund !== p.refund || existing.total !== p.total) {
        throw invalidRequest('商户退款单号重复,且请求参数与原退款单不一致');
      }
      return existing;
    }
    if (p.total !== order.total) throw invalidRequest('订单金额与原订单金额不一致');
    const payerTotal = order.payerTotal ?? order.total;
    const refunded = [...this.refunds.values()].filter((r) => r.mchid === mchid && r.outTradeNo === order.out_trade_no).reduce((s, r) => s + r.refund, 0);
    if (refunded + p.refund > payerTotal) throw invalidRequest('申请退款金额超过订单可退金额');
    const r: Refund = {
      mchid,
      refundId: `50${digits(27)}`,
      outRefundNo: p.out_refund_no,
      outTradeNo: order.out_trade_no,
      transactionId: order.transactionId,
      reason: p.reason,
      notifyUrl: p.notify_url,
      refund: p.refund,
      total: order.total,
      payerTotal,
      payerRefund: p.refund,
      currency: p.currency,
      status: 'PROCESSING',
      createdAt: this.clock.now(),
    };
    this.refunds.set(OrderBook.key(mchid, r.outRefundNo), r);
    order.state = 'REFUND';
    return r;
  }

  /** PROCESSING -> SUCCESS. TypeError when unknown or already succeeded. */
  succeedRefund(outRefundNo: string, mchid?: string): Refund {
    const r = this.getRefund(outRefundNo, mchid);
    if (!r) throw new TypeError(`no refund ${outRefundNo}`);
    if (r.status !== 'PROCESSING') throw new TypeError(`refund ${outRefundNo} is ${r.status}, not PROCESSING`);
    r.status = 'SUCCESS';
    r.successAt = this.clock.now();
    return r;
  }

  refundView(r: Refund): PayRefund {
    const v: PayRefund = {
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      create_time: payTime(r.createdAt),
      status: r.status,
      funds_account: 'AVAILABLE',
      amount: {
        total: r.total,
        refund: r.refund,
        payer_total: r.payerTotal,
        payer_refund: r.payerRefund,
        settlement_total: r.total,
        settlement_refund: r.refund,
        discount_refund: 0,
        currency: r.currency,
      },
    };
    if (r.successAt !== undefined) v.success_time = payTime(r.successAt);
    return v;
  }

  /** The plaintext of a REFUND.SUCCESS notification. */
  refundNotice(r: Refund): Record<string, unknown> {
    return {
      mchid: r.mchid,
      out_trade_no: r.outTradeNo,
      transaction_id: r.transactionId,
      out_refund_no: r.outRefundNo,
      refund_id: r.refundId,
      refund_status: r.status,
      success_time: payTime(r.successAt ?? this.clock.now()),
      user_received_account: '支付用户零钱',
      amount: { total: r.total, refund: r.refund, payer_total: r.payerTotal, payer_refund: r.payerRefund },
    };
  }
}
