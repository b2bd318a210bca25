import { AppError, WeChatApiError } from '../kernel/errors';
import type { ErrorCode } from '../kernel/error-catalogue';

/**
 * Turns the WeChat errcodes a client can act on into stable AppErrors, per API. Only non-secret
 * fields go into details (errcode, and WeChat's rid so support can trace the call); messages are
 * fixed strings, never errmsg or request values.
 */
export type ErrorFactory = (e: WeChatApiError) => AppError;
export type ErrorTable = Readonly<Record<number, ErrorFactory>>;

export function refuse(status: number, code: ErrorCode, message: string, headers?: Record<string, string>): ErrorFactory {
  return (e) =>
    new AppError(status, code, message, {
      ...(headers ? { headers } : {}),
      details: { errcode: e.errcode, ...(e.rid !== undefined ? { rid: e.rid } : {}) },
      cause: e,
    });
}

/** Errcodes with the same meaning on every API. */
const COMMON: ErrorTable = {
  47001: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the request data as malformed'),
  48001: refuse(403, 'WECHAT_API_UNAUTHORIZED', 'this mini program is not authorised to use this WeChat API'),
};

/** Runs a call and rethrows a mapped WeChatApiError as the table's (or the common) AppError. */
export async function mapErrors<T>(table: ErrorTable, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WeChatApiError) {
      const f = table[err.errcode] ?? COMMON[err.errcode];
      if (f) throw f(err);
    }
    throw err;
  }
}
