import { AppError } from '../kernel/errors';
import type { MerchantAccount } from '../merchants/merchant-directory';
import type { PayRequest, PayTransport } from './pay-transport';
import type { PlatformKeys } from './platform-keys';
import { payErrorOf } from './pay-errors';

/** WeChat Pay's transaction object (the query answer and the decrypted payment notification). */
export interface PayTransaction {
  appid?: string;
  mchid?: string;
  out_trade_no?: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state?: string;
  trade_state_desc?: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer?: { openid?: string };
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string };
}

/** WeChat Pay's refund object (the create and query answers). */
export interface PayRefund {
  refund_id?: string;
  out_refund_no?: string;
  transaction_id?: string;
  out_trade_no?: string;
  status?: string;
  success_time?: string;
  user_received_account?: string;
  amount?: { total?: number; refund?: number; payer_total?: number; payer_refund?: number; currency?: string };
}

export interface JsapiOrder {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  notify_url: string;
  amount: { total: number; currency: string };
  payer: { openid: string };
  attach?: string;
  time_expire?: string;
}

export interface RefundRequest {
  out_trade_no: string;
  out_refund_no: string;
  reason?: string;
  notify_url: string;
  amount: { refund: number; total: number; currency: string };
}

/**
 * The WeChat Pay v3 APIs the gateway uses. Every 2xx answer's signature is verified before its
 * content is used; an error answer is mapped to a stable code and never changes stored state.
 */
export class PayApi {
  constructor(
    private readonly transport: PayTransport,
    private readonly keys: PlatformKeys,
  ) {}

  async jsapi(account: MerchantAccount, order: JsapiOrder): Promise<{ prepay_id: string }> {
    const data = await this.call(account, { method: 'POST', path: '/v3/pay/transactions/jsapi', body: order });
    if (typeof data?.prepay_id !== 'string' || data.prepay_id === '') throw unexpected('/v3/pay/transactions/jsapi');
    return { prepay_id: data.prepay_id };
  }

  async queryOrder(account: MerchantAccount, outTradeNo: string): Promise<PayTransaction> {
    const api = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}`;
    const data = await this.call(account, { method: 'GET', path: api, query: { mchid: account.merchant.mchid } });
    if (!data) throw unexpected(api);
    return data as PayTransaction;
  }

  async closeOrder(account: MerchantAccount, outTradeNo: string): Promise<void> {
    await this.call(account, { method: 'POST', path: `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`, body: { mchid: account.merchant.mchid } });
  }

  async refund(account: MerchantAccount, req: RefundRequest): Promise<PayRefund> {
    const data = await this.call(account, { method: 'POST', path: '/v3/refund/domestic/refunds', body: req });
    if (!data) throw unexpected('/v3/refund/domestic/refunds');
    return data as PayRefund;
  }

  async queryRefund(account: MerchantAccount, outRefundNo: string): Promise<PayRefund> {
    const api = `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`;
    const data = await this.call(account, { method: 'GET', path: api });
    if (!data) throw unexpected(api);
    return data as PayRefund;
  }

  /** Sends, checks the status and the signature; resolves the JSON answer (null for 204). */
  private async call(account: MerchantAccount, req: PayRequest): Promise<Record<string, unknown> | null> {
    const res = await this.transport.send(account, req);
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status >= 300) throw payErrorOf(req.path, res.status, parseJson(text));
    const verified = await this.keys.verify(account, res.headers, text);
    if (!verified.ok) {
      throw new AppError(502, 'PAY_RESPONSE_UNVERIFIED', `WeChat Pay's answer to ${req.path} did not verify; it was not used`, {
        logDetails: { reason: verified.reason, mchid: account.merchant.mchid },
      });
    }
    if (res.status === 204 || text === '') return null;
    const data = parseJson(text);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw unexpected(req.path);
    return data as Record<string, unknown>;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const unexpected = (api: string) => new AppError(503, 'PAY_UNAVAILABLE', `WeChat Pay answered ${api} with an unexpected body`, { headers: { 'Retry-After': '5' } });
