import { Schema, type Connection, type Model } from 'mongoose';
import { boundedMongo } from '../infra/mongo';

export type TradeState = 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'CLOSED' | 'REFUND' | 'PAYERROR' | 'REVOKED';
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';

/** An order as the gateway keeps it; unique per (appid, outTradeNo). No prepayId yet: WeChat Pay has not confirmed it. */
export interface PayOrderDoc {
  appid: string;
  outTradeNo: string;
  mchid: string;
  description: string;
  amount: { total: number; currency: string };
  payerOpenid: string;
  attach?: string;
  timeExpire?: string;
  /** Hash of what the client asked for: the same outTradeNo with other content is a conflict. */
  contentHash: string;
  prepayId?: string;
  state: TradeState;
  transactionId?: string;
  successTime?: string;
  payerTotal?: number;
  /** States whose event is known to be queued for the tenant's webhook. */
  forwarded: string[];
  createdAt?: Date;
  updatedAt?: Date;
}

export interface PayRefundDoc {
  appid: string;
  outTradeNo: string;
  outRefundNo: string;
  mchid: string;
  amount: { refund: number; total: number; currency: string };
  reason?: string;
  contentHash: string;
  refundId?: string;
  status: RefundStatus;
  successTime?: string;
  userReceivedAccount?: string;
  forwarded: string[];
  createdAt?: Date;
  updatedAt?: Date;
}

const orderSchema = new Schema<PayOrderDoc>(
  {
    appid: { type: String, required: true },
    outTradeNo: { type: String, required: true },
    mchid: { type: String, required: true },
    description: { type: String, required: true },
    amount: { total: { type: Number, required: true }, currency: { type: String, required: true } },
    payerOpenid: { type: String, required: true },
    attach: String,
    timeExpire: String,
    contentHash: { type: String, required: true },
    prepayId: String,
    state: { type: String, required: true },
    transactionId: String,
    successTime: String,
    payerTotal: Number,
    forwarded: { type: [String], default: [] },
  },
  { collection: 'pay_orders', timestamps: true, versionKey: false },
);
orderSchema.index({ appid: 1, outTradeNo: 1 }, { unique: true });

const refundSchema = new Schema<PayRefundDoc>(
  {
    appid: { type: String, required: true },
    outTradeNo: { type: String, required: true },
    outRefundNo: { type: String, required: true },
    mchid: { type: String, required: true },
    amount: { refund: { type: Number, required: true }, total: { type: Number, required: true }, currency: { type: String, required: true } },
    reason: String,
    contentHash: { type: String, required: true },
    refundId: String,
    status: { type: String, required: true },
    successTime: String,
    userReceivedAccount: String,
    forwarded: { type: [String], default: [] },
  },
  { collection: 'pay_refunds', timestamps: true, versionKey: false },
);
refundSchema.index({ appid: 1, outRefundNo: 1 }, { unique: true });

/** States an order may move to from each state (WeChat Pay's trade states). */
const NEXT: Readonly<Record<TradeState, readonly TradeState[]>> = {
  NOTPAY: ['USERPAYING', 'SUCCESS', 'CLOSED', 'PAYERROR', 'REVOKED'],
  USERPAYING: ['NOTPAY', 'SUCCESS', 'CLOSED', 'PAYERROR', 'REVOKED'],
  SUCCESS: ['REFUND'],
  REFUND: [],
  CLOSED: [],
  PAYERROR: [],
  REVOKED: [],
};
const TRADE_STATES = Object.keys(NEXT) as TradeState[];
export const isTradeState = (s: unknown): s is TradeState => typeof s === 'string' && (TRADE_STATES as string[]).includes(s);
const REFUND_STATUSES: readonly RefundStatus[] = ['PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL'];
export const isRefundStatus = (s: unknown): s is RefundStatus => typeof s === 'string' && (REFUND_STATUSES as readonly string[]).includes(s);

/** Orders and refunds in MongoDB. State moves are conditional updates, so concurrent notifications move an order once. */
export class OrderStore {
  readonly orders: Model<PayOrderDoc>;
  readonly refunds: Model<PayRefundDoc>;

  constructor(conn: Connection) {
    this.orders = (conn.models.PayOrder as Model<PayOrderDoc> | undefined) ?? conn.model<PayOrderDoc>('PayOrder', orderSchema);
    this.refunds = (conn.models.PayRefund as Model<PayRefundDoc> | undefined) ?? conn.model<PayRefundDoc>('PayRefund', refundSchema);
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([this.orders.createIndexes(), this.refunds.createIndexes()]);
  }

  findOrder(appid: string, outTradeNo: string): Promise<PayOrderDoc | null> {
    return boundedMongo(this.orders.findOne({ appid, outTradeNo }).lean<PayOrderDoc>().exec());
  }

  /** Inserts a new order; resolves false when (appid, outTradeNo) exists already. */
  async insertOrder(doc: PayOrderDoc): Promise<boolean> {
    try {
      await boundedMongo(this.orders.create(doc));
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  async setPrepayId(appid: string, outTradeNo: string, prepayId: string): Promise<void> {
    await boundedMongo(this.orders.updateOne({ appid, outTradeNo }, { $set: { prepayId } }).exec());
  }

  async deleteUnconfirmed(appid: string, outTradeNo: string): Promise<void> {
    await boundedMongo(this.orders.deleteOne({ appid, outTradeNo, prepayId: { $exists: false } }).exec());
  }

  /** Moves the order to `to` if its current state allows it; resolves whether this call moved it. */
  async moveOrder(appid: string, outTradeNo: string, to: TradeState, set: Partial<PayOrderDoc> = {}): Promise<boolean> {
    const from = TRADE_STATES.filter((s) => NEXT[s].includes(to));
    if (from.length === 0) return false;
    const r = await boundedMongo(this.orders.updateOne({ appid, outTradeNo, state: { $in: from } }, { $set: { ...set, state: to } }).exec());
    return r.modifiedCount > 0;
  }

  /** Like moveOrder, in one round trip: the moved order, or null when its state did not allow the move. */
  async moveOrderReturning(appid: string, outTradeNo: string, to: TradeState, set: Partial<PayOrderDoc> = {}): Promise<PayOrderDoc | null> {
    const from = TRADE_STATES.filter((s) => NEXT[s].includes(to));
    if (from.length === 0) return null;
    return boundedMongo(
      this.orders
        .findOneAndUpdate({ appid, outTradeNo, state: { $in: from } }, { $set: { ...set, state: to } }, { new: true })
        .lean<PayOrderDoc>()
        .exec(),
    );
  }

  async markOrderForwarded(appid: string, outTradeNo: string, state: string): Promise<void> {
    await boundedMongo(this.orders.updateOne({ appid, outTradeNo }, { $addToSet: { forwarded: state } }).exec());
  }

  findRefund(appid: string, outRefundNo: string): Promise<PayRefundDoc | null> {
    return boundedMongo(this.refunds.findOne({ appid, outRefundNo }).lean<PayRefundDoc>().exec());
  }

  async insertRefund(doc: PayRefundDoc): Promise<boolean> {
    try {
      await boundedMongo(this.refunds.create(doc));
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  async deleteUnconfirmedRefund(appid: string, outRefundNo: string): Promise<void> {
    await boundedMongo(this.refunds.deleteOne({ appid, outRefundNo, refundId: { $exists: false } }).exec());
  }

  /** Records WeChat Pay's answer to a refund: its id always, its status only forward (PROCESSING never overwrites a final status). */
  async confirmRefund(appid: string, outRefundNo: string, refundId: string, status: RefundStatus, set: Partial<PayRefundDoc> = {}): Promise<boolean> {
    await boundedMongo(this.refunds.updateOne({ appid, outRefundNo }, { $set: { refundId } }).exec());
    return this.moveRefund(appid, outRefundNo, status, set);
  }

  /** PROCESSING -> a final status, once. */
  async moveRefund(appid: string, outRefundNo: string, to: RefundStatus, set: Partial<PayRefundDoc> = {}): Promise<boolean> {
    if (to === 'PROCESSING') return false;
    const r = await boundedMongo(this.refunds.updateOne({ appid, outRefundNo, status: 'PROCESSING' }, { $set: { ...set, status: to } }).exec());
    return r.modifiedCount > 0;
  }

  async markRefundForwarded(appid: string, outRefundNo: string, status: string): Promise<void> {
    await boundedMongo(this.refunds.updateOne({ appid, outRefundNo }, { $addToSet: { forwarded: status } }).exec());
  }
}
