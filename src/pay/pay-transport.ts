import { randomBytes } from 'node:crypto';
import type { Method } from 'axios';
import type { Clock } from '../kernel/clock';
import type { RawExchange, WeChatHttp } from '../transport/wechat-http';
import { pathAndQuery, WeChatTransportError } from '../transport/wechat-http';
import { AppError } from '../kernel/errors';
import { authorizationHeader } from '../protocol/wechatpay/pay-signature';
import { DEFAULT_PAY_BASE } from '../merchants/merchant';
import type { MerchantAccount } from '../merchants/merchant-directory';

export interface PayRequest {
  method: Method;
  /** Path without query, e.g. `/v3/pay/transactions/jsapi`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

/** A random nonce of letters and digits, as WeChat Pay's examples use (32 characters). */
export function payNonce(): string {
  return randomBytes(24)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 32)
    .padEnd(32, '0');
}

/**
 * Sends a request to WeChat Pay signed by the merchant (its serialNo names the key). The signed
 * URL and body are exactly the bytes sent: the query is serialised once, the body stringified once.
 */
export class PayTransport {
  constructor(
    private readonly http: WeChatHttp,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly nonce: () => string = payNonce,
  ) {}

  async send(account: MerchantAccount, req: PayRequest): Promise<RawExchange> {
    const m = account.merchant;
    const body = req.body === undefined ? '' : JSON.stringify(req.body);
    const authorization = authorizationHeader({
      mchid: m.mchid,
      serialNo: m.serialNo,
      privateKey: account.privateKey,
      method: req.method,
      pathAndQuery: pathAndQuery(req.path, req.query),
      body,
      timestamp: Math.floor(this.clock.now() / 1000),
      nonce: this.nonce(),
    });
    try {
      return await this.http.exchange({
        baseUrl: m.payBase ?? DEFAULT_PAY_BASE,
        method: req.method,
        path: req.path,
        ...(req.query ? { query: req.query } : {}),
        ...(req.body === undefined ? {} : { body }),
        headers: {
          authorization,
          accept: 'application/json',
          'user-agent': 'wxgate',
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (err instanceof WeChatTransportError) throw new AppError(503, 'PAY_UNAVAILABLE', `WeChat Pay could not be reached (${req.path})`, { headers: { 'Retry-After': '5' }, cause: err });
      throw err;
    }
  }
}
