/**
 * Maps the errcodes of /sns/jscode2session that deserve a specific client answer to AppErrors.
 * Everything else returns undefined and is mapped generically by the caller.
 * Messages are fixed strings: no errmsg, no request parameters, never the app secret.
 */
import { AppError, type WeChatApiError } from '../errors';

/** Seconds a client should wait after 45011 (WeChat's limit is per user per minute). */
export const LOGIN_RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

export function loginErrorFor(err: WeChatApiError): AppError | undefined {
  // Only non-secret fields go into details; WeChat's rid helps support trace the call.
  const details: Record<string, unknown> = { errcode: err.errcode };
  if (err.rid !== undefined) details['rid'] = err.rid;

  switch (err.errcode) {
    case 40029:
      return new AppError(400, 'LOGIN_CODE_INVALID', 'The login code is invalid or expired; call wx.login again.', {
        details,
        cause: err,
      });
    case 40163:
      return new AppError(400, 'LOGIN_CODE_INVALID', 'The login code was already used; call wx.login again.', {
        details,
        cause: err,
      });
    case 40226:
      return new AppError(403, 'LOGIN_BLOCKED', 'WeChat blocked this login because the user is flagged as high risk.', {
        details,
        cause: err,
      });
    case 45011:
      return new AppError(429, 'WECHAT_RATE_LIMITED', 'Too many login attempts for this user; retry in a minute.', {
        headers: { 'Retry-After': String(LOGIN_RATE_LIMIT_RETRY_AFTER_SECONDS) },
        details,
        cause: err,
      });
    default:
      return undefined;
  }
}
