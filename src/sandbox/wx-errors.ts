/**
 * WeChat-style errors. WeChat answers errors with HTTP 200 and a body
 * `{errcode, errmsg: "<text> rid: <request id>"}`; handlers throw WxError and the
 * error middleware (http.ts) renders it.
 */
import { randomBytes } from 'node:crypto';

/** Standard errmsg texts (before the ` rid: ...` suffix), as WeChat words them. */
export const ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid media size',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40029: 'invalid code',
  40037: 'invalid template_id',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40165: 'invalid weapp pagepath',
  40226: 'high risk user, login blocked',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41005: 'media data missing',
  41008: 'missing code',
  41030: 'invalid page',
  42001: 'access_token expired',
  43101: 'user refuse to accept the msg',
  44002: 'empty post data',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit mustslower retry next minute',
  47001: 'data format error',
  47003: 'argument invalid!',
  48001: 'api unauthorized',
  61003: 'component is not authorized by this account',
  61005: 'component ticket is expired',
  61006: 'component ticket is invalid',
  61009: 'code is invalid',
  61010: 'code is expired',
  61011: 'invalid component',
  61023: 'refresh_token is invalid',
};

/** A request id shaped like WeChat's (`6565a0b1-4f1c2d3e-1a2b3c4d`): three groups of 8 hex digits. */
export function newRid(): string {
  const h = randomBytes(12).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 24)}`;
}

export interface WxErrorBody {
  errcode: number;
  errmsg: string;
}

/** Builds `{errcode, errmsg}` with a fresh rid appended (unless the text already carries one). */
export function wxErrorBody(errcode: number, text?: string): WxErrorBody {
  const base = text ?? ERRMSG[errcode] ?? 'sandbox error';
  const errmsg = /\brid:/.test(base) ? base : `${base} rid: ${newRid()}`;
  return { errcode, errmsg };
}

/** Thrown by handlers; rendered as HTTP 200 with a WeChat error body. */
export class WxError extends Error {
  readonly errcode: number;
  readonly text: string;

  constructor(errcode: number, text?: string) {
    const t = text ?? ERRMSG[errcode] ?? 'sandbox error';
    super(`${errcode} ${t}`);
    this.name = 'WxError';
    this.errcode = errcode;
    this.text = t;
  }

  toBody(): WxErrorBody {
    return wxErrorBody(this.errcode, this.text);
  }
}
