import { createHash } from 'node:crypto';
import { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { EventForwarder } from '../delivery/event-forwarder';
import { requestPaymentParams, type RequestPaymentParams } from '../protocol/wechatpay/pay-signature';
import type { MerchantAccount } from '../merchants/merchant-directory';
import type { PayApi, PayRefund, PayTransaction } from './pay-api';
import { isRefundStatus, isTradeState, type OrderStore, type PayOrderDoc, type PayRefundDoc } from './order-store';
import { payNonce } from './pay-transport';

export interface NewOrder {
  outTradeNo: string;
  description: string;
  amount: { total: number; currency: string };
  payerOpenid: string;
  attach?: string;
  timeExpire?: string;
}

export interface NewRefund {
  outRefundNo: string;
  amount: { refund: number; total: number };
  reason?: string;
}

/** Where WeChat Pay reaches the gateway for one tenant. */
export interface NotifyUrls {
  payment: string;
  refund: string;
}

const hashOf = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');

/** The order as clients see it (no internal fields). */
export function orderView(o: PayOrderDoc): Record<string, unknown> {
  return {
    outTradeNo: o.outTradeNo,
    state: o.state,
    description: o.description,
    amount: o.amount,
    payer: { openid: o.payerOpenid },
    ...(o.attach !== undefined ? { attach: o.attach } : {}),
    ...(o.timeExpire !== undefined ? { timeExpire: o.timeExpire } : {}),
    ...(o.prepayId ? { prepayId: o.prepayId } : {}),
    ...(o.transactionId ? { transactionId: o.transactionId, successTime: o.successTime, payerTotal: o.payerTotal } : {}),
    mchid: o.mchid,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export function refundView(r: PayRefundDoc): Record<string, unknown> {
  return {
    outRefundNo: r.outRefundNo,
    outTradeNo: r.outTradeNo,
    status: r.status,
    amount: r.amount,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.refundId ? { refundId: r.refundId } : {}),
    ...(r.successTime ? { successTime: r.successTime } : {}),
    ...(r.userReceivedAccount ? { userReceivedAccount: r.userReceivedAccount } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/**
 * Orders and refunds of one gateway: creation (idempotent per outTradeNo / outRefundNo), queries,
 * close, and applying what WeChat Pay reports (a notification or a query), which moves the stored
 * state once and queues the tenant's webhook event once.
 */
export class OrderService {
  constructor(
    private readonly store: OrderStore,
    private readonly api: PayApi,
    private readonly events: EventForwarder,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async create(appid: string, account: MerchantAccount, o: NewOrder, urls: NotifyUrls): Promise<{ order: PayOrderDoc; payment: RequestPaymentParams }> {
    const mchid = account.merchant.mchid;
    const contentHash = hashOf([mchid, o.description, o.amount, o.payerOpenid, o.attach ?? null, o.timeExpire ?? null]);
    let order = await this.store.findOrder(appid, o.outTradeNo);
    if (!order) {
      const doc: PayOrderDoc = {
        appid,
        outTradeNo: o.outTradeNo,
        mchid,
        description: o.description,
        amount: o.amount,
        payerOpenid: o.payerOpenid,
        contentHash,
        state: 'NOTPAY',
        forwarded: [],
      };
      if (o.attach !== undefined) doc.attach = o.attach;
      if (o.timeExpire !== undefined) doc.timeExpire = o.timeExpire;
      if (!(await this.store.insertOrder(doc))) order = await this.store.findOrder(appid, o.outTradeNo);
      else order = doc;
    }
    if (!order) throw new AppError(409, 'ORDER_CONFLICT', 'the order changed while it was being created; try again');
    if (order.contentHash !== contentHash) throw new AppError(409, 'ORDER_CONFLICT', `outTradeNo ${o.outTradeNo} was already used with other content`);
    if (!order.prepayId) {
      if (order.state !== 'NOTPAY') throw new AppError(409, order.state === 'CLOSED' ? 'ORDER_CLOSED' : 'ORDER_PAID', `the order is ${order.state}`);
      // WeChat Pay answers the same prepay_id for the same content, so a retry after a lost answer is safe.
      let prepayId: string;
      try {
        ({ prepay_id: prepayId } = await this.api.jsapi(account, {
          appid,
          mchid,
          description: o.description,
          out_trade_no: o.outTradeNo,
          notify_url: urls.payment,
          amount: o.amount,
          payer: { openid: o.payerOpenid },
          ...(o.attach !== undefined ? { attach: o.attach } : {}),
          ...(o.timeExpire !== undefined ? { time_expire: o.timeExpire } : {}),
        }));
      } catch (err) {
        // Refused content must not hold the outTradeNo: the client may correct it and try again.
        if (err instanceof AppError && err.status >= 400 && err.status < 500 && err.code !== 'ORDER_CONFLICT') await this.store.deleteUnconfirmed(appid, o.outTradeNo);
        throw err;
      }
      await this.store.setPrepayId(appid, o.outTradeNo, prepayId);
      order = { ...order, prepayId };
    }
    const payment = requestPaymentParams(appid, order.prepayId as string, account.privateKey, Math.floor(this.clock.now() / 1000), payNonce());
    return { order, payment };
  }

  async get(appid: string, outTradeNo: string): Promise<PayOrderDoc> {
    const o = await this.store.findOrder(appid, outTradeNo);
    if (!o) throw new AppError(404, 'ORDER_NOT_FOUND', `no order ${outTradeNo}`);
    return o;
  }

  /** Asks WeChat Pay for the order's state and applies it as a notification would. */
  async sync(appid: string, account: MerchantAccount, outTradeNo: string, forward: boolean): Promise<PayOrderDoc> {
    const order = await this.get(appid, outTradeNo);
    if (!order.prepayId) return order;
    const tx = await this.api.queryOrder(account, outTradeNo);
    await this.applyTransaction(appid, account, tx, forward);
    return this.get(appid, outTradeNo);
  }

  async close(appid: string, account: MerchantAccount, outTradeNo: string): Promise<PayOrderDoc> {
    const order = await this.get(appid, outTradeNo);
    if (order.state === 'CLOSED') return order;
    if (order.state !== 'NOTPAY' && order.state !== 'USERPAYING')
      throw new AppError(409, order.state === 'SUCCESS' || order.state === 'REFUND' ? 'ORDER_PAID' : 'ORDER_CLOSED', `the order is ${order.state}`);
    if (order.prepayId) await this.api.closeOrder(account, outTradeNo);
    await this.store.moveOrder(appid, outTradeNo, 'CLOSED');
    return this.get(appid, outTradeNo);
  }

  /**
   * Applies a transaction reported by WeChat Pay (verified and decrypted by the caller). It must
   * be this tenant's stored order, of this merchant, for the stored amount; then the state moves
   * once and, when the tenant has a webhook (`forward`), the event is queued once. Resolves whether the state moved.
   */
  async applyTransaction(appid: string, account: MerchantAccount, tx: PayTransaction, forward: boolean): Promise<boolean> {
    const outTradeNo = tx.out_trade_no;
    if (typeof outTradeNo !== 'string') throw mismatch('out_trade_no missing');
    if (tx.mchid !== account.merchant.mchid) throw mismatch('mchid is not the merchant of this mini program');
    if (tx.appid !== appid) throw mismatch('appid is not this mini program');
    const order = await this.store.findOrder(appid, outTradeNo);
    if (!order) throw mismatch('no such order of this mini program');
    if (order.mchid !== tx.mchid) throw mismatch('the order belongs to another merchant');
    if (tx.amount?.total !== order.amount.total || (tx.amount.currency !== undefined && tx.amount.currency !== order.amount.currency)) throw mismatch('amount differs from the stored order');
    if (!isTradeState(tx.trade_state)) throw mismatch('unknown trade_state');
    optionalStrings(tx, ['transaction_id', 'success_time']);
    const state = tx.trade_state;
    // A repeat (the state is already there) costs no write; a move returns the moved order, so
    // nothing is read twice. Only a move that lost a race re-reads to see where the order is.
    const after =
      state === order.state
        ? order
        : await this.store.moveOrderReturning(appid, outTradeNo, state, {
            ...(tx.transaction_id ? { transactionId: tx.transaction_id } : {}),
            ...(tx.success_time ? { successTime: tx.success_time } : {}),
            ...(typeof tx.amount.payer_total === 'number' ? { payerTotal: tx.amount.payer_total } : {}),
          });
    const moved = after !== null && after !== order;
    const now = after ?? (await this.store.findOrder(appid, outTradeNo));
    if (forward && now && now.state === state && FORWARDED_TRADE_STATES.has(state) && !now.forwarded.includes(state)) {
      await this.events.forward(appid, `pay:${outTradeNo}:${state}`, { kind: 'pay.transaction', outTradeNo, state, transaction: tx });
      await this.store.markOrderForwarded(appid, outTradeNo, state);
    }
    if (moved) this.log.info({ appid, outTradeNo, from: order.state, to: state }, 'order state moved');
    return moved;
  }

  async refund(appid: string, account: MerchantAccount, outTradeNo: string, r: NewRefund, urls: NotifyUrls): Promise<PayRefundDoc> {
    const order = await this.get(appid, outTradeNo);
    const contentHash = hashOf([outTradeNo, r.amount, r.reason ?? null]);
    let refund = await this.store.findRefund(appid, r.outRefundNo);
    if (refund && refund.contentHash !== contentHash) throw new AppError(409, 'ORDER_CONFLICT', `outRefundNo ${r.outRefundNo} was already used with other content`);
    if (refund?.refundId) return refund;
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') throw new AppError(409, 'ORDER_NOT_PAID', `the order is ${order.state}; only paid orders can be refunded`);
    if (r.amount.total !== order.amount.total) throw new AppError(400, 'INVALID_BODY', 'amount.total: must equal the order total');
    if (r.amount.refund > r.amount.total) throw new AppError(400, 'INVALID_BODY', 'amount.refund: must not exceed amount.total');
    if (!refund) {
      const doc: PayRefundDoc = {
        appid,
        outTradeNo,
        outRefundNo: r.outRefundNo,
        mchid: order.mchid,
        amount: { ...r.amount, currency: order.amount.currency },
        contentHash,
        status: 'PROCESSING',
        forwarded: [],
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
      };
      if (!(await this.store.insertRefund(doc))) {
        refund = await this.store.findRefund(appid, r.outRefundNo);
        if (!refund || refund.contentHash !== contentHash) throw new AppError(409, 'ORDER_CONFLICT', `outRefundNo ${r.outRefundNo} was already used with other content`);
      } else refund = doc;
    }
    let answer: PayRefund;
    try {
      answer = await this.api.refund(account, {
        out_trade_no: outTradeNo,
        out_refund_no: r.outRefundNo,
        notify_url: urls.refund,
        amount: { refund: r.amount.refund, total: r.amount.total, currency: order.amount.currency },
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
      });
    } catch (err) {
      if (err instanceof AppError && err.status >= 400 && err.status < 500) await this.store.deleteUnconfirmedRefund(appid, r.outRefundNo);
      throw err;
    }
    if (answer.out_trade_no !== undefined && answer.out_trade_no !== outTradeNo) throw mismatchAnswer();
    if (typeof answer.refund_id !== 'string') throw new AppError(503, 'PAY_UNAVAILABLE', 'WeChat Pay answered the refund without refund_id', { headers: { 'Retry-After': '5' } });
    await this.store.confirmRefund(appid, r.outRefundNo, answer.refund_id, isRefundStatus(answer.status) ? answer.status : 'PROCESSING');
    return (await this.store.findRefund(appid, r.outRefundNo)) as PayRefundDoc;
  }

  async getRefund(appid: string, outTradeNo: string, outRefundNo: string): Promise<PayRefundDoc> {
    const r = await this.store.findRefund(appid, outRefundNo);
    if (!r || r.outTradeNo !== outTradeNo) throw new AppError(404, 'ORDER_NOT_FOUND', `no refund ${outRefundNo} of order ${outTradeNo}`);
    return r;
  }

  /** Applies a refund notification (verified and decrypted by the caller). */
  async applyRefund(appid: string, account: MerchantAccount, n: PayRefundNotice, forward: boolean): Promise<boolean> {
    if (n.mchid !== account.merchant.mchid) throw mismatch('mchid is not the merchant of this mini program');
    if (typeof n.out_refund_no !== 'string' || typeof n.out_trade_no !== 'string') throw mismatch('out_refund_no or out_trade_no missing');
    const refund = await this.store.findRefund(appid, n.out_refund_no);
    if (!refund || refund.outTradeNo !== n.out_trade_no) throw mismatch('no such refund of this mini program');
    if (n.amount?.refund !== refund.amount.refund || n.amount.total !== refund.amount.total) throw mismatch('amount differs from the stored refund');
    if (!isRefundStatus(n.refund_status) || n.refund_status === 'PROCESSING') throw mismatch('unknown refund_status');
    optionalStrings(n, ['refund_id', 'success_time', 'user_received_account']);
    const status = n.refund_status;
    const moved = await this.store.moveRefund(appid, n.out_refund_no, status, {
      ...(n.refund_id ? { refundId: n.refund_id } : {}),
      ...(n.success_time ? { successTime: n.success_time } : {}),
      ...(n.user_received_account ? { userReceivedAccount: n.user_received_account } : {}),
    });
    const now = await this.store.findRefund(appid, n.out_refund_no);
    if (forward && now && now.status === status && !now.forwarded.includes(status)) {
      await this.events.forward(appid, `refund:${n.out_refund_no}:${status}`, { kind: 'pay.refund', outTradeNo: n.out_trade_no, outRefundNo: n.out_refund_no, status, refund: n });
      await this.store.markRefundForwarded(appid, n.out_refund_no, status);
    }
    if (moved && status === 'SUCCESS') await this.store.moveOrder(appid, n.out_trade_no, 'REFUND');
    return moved;
  }
}

/** The decrypted refund notification. */
export interface PayRefundNotice {
  mchid?: string;
  out_trade_no?: string;
  transaction_id?: string;
  out_refund_no?: string;
  refund_id?: string;
  refund_status?: string;
  success_time?: string;
  user_received_account?: string;
  amount?: { total?: number; refund?: number; payer_total?: number; payer_refund?: number };
}

/** Trade states a tenant's backend hears about (the final ones a payment reaches). */
const FORWARDED_TRADE_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'CLOSED', 'PAYERROR', 'REVOKED', 'REFUND']);

const mismatch = (why: string) => new AppError(400, 'PAY_NOTIFY_MISMATCH', why);

/** Fields that are stored must be what WeChat Pay documents (text): anything else is not its message, and is never stored. */
function optionalStrings<T extends object>(o: T, fields: readonly (keyof T & string)[]): void {
  for (const f of fields) {
    const v = o[f];
    if (v !== undefined && (typeof v !== 'string' || v.length > 256)) throw new AppError(400, 'PAY_NOTIFY_MALFORMED', `${f}: expected text`);
  }
}
const mismatchAnswer = () => new AppError(502, 'PAY_RESPONSE_UNVERIFIED', "WeChat Pay's refund answer is for another order");
