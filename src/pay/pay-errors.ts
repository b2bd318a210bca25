import { AppError } from '../kernel/errors';

/** WeChat Pay's error `code`s (answers with a non-2xx status), as the gateway's stable codes. */
const BY_CODE: Readonly<Record<string, (msg: string, code: string) => AppError>> = {
  PARAM_ERROR: (m) => new AppError(400, 'PAY_PARAM_ERROR', `WeChat Pay refused the request data: ${m}`),
  INVALID_REQUEST: (m) => new AppError(400, 'PAY_PARAM_ERROR', `WeChat Pay refused the request: ${m}`),
  APPID_MCHID_NOT_MATCH: (m) => new AppError(400, 'PAY_PARAM_ERROR', `the mini program is not bound to the merchant: ${m}`),
  OUT_TRADE_NO_USED: () => new AppError(409, 'ORDER_CONFLICT', 'WeChat Pay already has this outTradeNo with other content'),
  ORDERPAID: () => new AppError(409, 'ORDER_PAID', 'the order is already paid'),
  ORDER_PAID: () => new AppError(409, 'ORDER_PAID', 'the order is already paid'),
  ORDER_CLOSED: () => new AppError(409, 'ORDER_CLOSED', 'the order is closed'),
  ORDERNOTEXIST: () => new AppError(404, 'ORDER_NOT_FOUND', 'WeChat Pay has no such order'),
  ORDER_NOT_EXIST: () => new AppError(404, 'ORDER_NOT_FOUND', 'WeChat Pay has no such order'),
  RESOURCE_NOT_EXISTS: () => new AppError(404, 'ORDER_NOT_FOUND', 'WeChat Pay has no such order or refund'),
  SIGN_ERROR: () => new AppError(502, 'PAY_SIGN_ERROR', "WeChat Pay refused the gateway's signature: check the merchant's serialNo and privateKey"),
  FREQUENCY_LIMITED: () => new AppError(429, 'PAY_RATE_LIMITED', 'WeChat Pay rate limit reached', { headers: { 'Retry-After': '60' } }),
  SYSTEM_ERROR: () => unavailable('WeChat Pay is busy'),
  BANKERROR: () => unavailable('the bank is unavailable'),
};

const unavailable = (why: string) => new AppError(503, 'PAY_UNAVAILABLE', why, { headers: { 'Retry-After': '5' } });

/** An error answer of WeChat Pay as an AppError; codes it has not mapped become PAY_REFUSED with the code in details. */
export function payErrorOf(api: string, status: number, body: unknown): AppError {
  const b = typeof body === 'object' && body !== null ? (body as { code?: unknown; message?: unknown }) : {};
  const code = typeof b.code === 'string' ? b.code.slice(0, 64) : '';
  const message = typeof b.message === 'string' ? b.message.slice(0, 200) : '';
  const mapped = BY_CODE[code];
  if (mapped) {
    const e = mapped(message, code);
    return new AppError(e.status, e.code, e.message, { headers: { ...e.headers }, details: { payCode: code }, logDetails: { api, status } });
  }
  if (status >= 500 || status === 0) return unavailable(`WeChat Pay answered ${api} with HTTP ${status}`);
  return new AppError(403, 'PAY_REFUSED', `WeChat Pay refused the call${code ? ` (${code})` : ''}${message ? `: ${message}` : ''}`, {
    details: { payCode: code || `HTTP_${status}` },
    logDetails: { api, status },
  });
}
