/**
 * The errcodes of /sns/jscode2session that deserve a specific client answer. Everything else is
 * mapped generically by the caller. Messages are fixed strings: never errmsg or the app secret.
 */
import type { AppError, WeChatApiError } from '../kernel/errors';
import { refuse, type ErrorTable } from '../transport/errcode-map';

/** Seconds a client should wait after 45011 (WeChat's limit is per user per minute). */
export const LOGIN_RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

export const LOGIN_ERRORS: ErrorTable = {
  40029: refuse(400, 'LOGIN_CODE_INVALID', 'The login code is invalid or expired; call wx.login again.'),
  40163: refuse(400, 'LOGIN_CODE_INVALID', 'The login code was already used; call wx.login again.'),
  40226: refuse(403, 'LOGIN_BLOCKED', 'WeChat blocked this login because the user is flagged as high risk.'),
  45011: refuse(429, 'WECHAT_RATE_LIMITED', 'Too many login attempts for this user; retry in a minute.', {
    'Retry-After': String(LOGIN_RATE_LIMIT_RETRY_AFTER_SECONDS),
  }),
};

export function loginErrorFor(err: WeChatApiError): AppError | undefined {
  return LOGIN_ERRORS[err.errcode]?.(err);
}
