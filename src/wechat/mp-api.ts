/**
 * Typed mini-program API calls on a tenant's WeChatClient. Each function sends one WeChat request
 * through the client (so the token, retry and cool-down rules apply), checks the shape of the answer
 * and turns the errcodes a caller can act on into stable AppErrors. Every other errcode propagates
 * as WeChatApiError (the error handler answers 502 WECHAT_API_ERROR).
 *
 * Nothing here logs, and no error carries a request value: bodies hold login codes, phone codes,
 * openids and message content.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../kernel/errors';
import { LOGIN_ERRORS } from './login-errors';
import { mapErrors, refuse, type ErrorTable } from '../transport/errcode-map';
import type { CustomerMessage } from './customer-message';
import type { WeChatClient } from './wechat-client';
import { assertOk, readAll } from '../transport/wechat-http';
import { isRecord } from '../kernel/records';

function unexpected(api: string, what: string): AppError {
  return new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${api} without ${what}`);
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

// ---------------------------------------------------------------------------------------------
// login

export { CODE2SESSION_API } from '../contracts/access-tokens';

export interface Code2SessionResult {
  openid: string;
  /** Base64 of 16 bytes. A server-side secret: never log it, never return it to a client. */
  sessionKey: string;
  unionid?: string;
}

/**
 * Exchanges a wx.login code: with appid + secret for an AppSecret tenant, with the component token
 * for a platform's authorizer (the credential kind decides; see AccessTokens.loginCredentials).
 * Login errcodes map via LOGIN_ERRORS.
 */
export async function code2Session(client: WeChatClient, jsCode: string): Promise<Code2SessionResult> {
  const { api, query } = await client.loginCredentials();
  const data = await mapErrors(LOGIN_ERRORS, () => client.jsonWithoutToken(api, { query: { ...query, js_code: jsCode, grant_type: 'authorization_code' } }));
  const { openid, session_key: sessionKey, unionid } = data;
  if (!str(openid) || openid.length > 128) throw unexpected(api, 'a valid openid');
  if (!str(sessionKey) || Buffer.from(sessionKey, 'base64').length !== 16) throw unexpected(api, 'a valid session key');
  return str(unionid) ? { openid, sessionKey, unionid } : { openid, sessionKey };
}

// ---------------------------------------------------------------------------------------------
// phone number

export const PHONE_API = '/wxa/business/getuserphonenumber';

export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

const PHONE_ERRORS: ErrorTable = {
  40029: refuse(400, 'PHONE_CODE_INVALID', 'the phone number code is invalid or expired; ask the user again (getPhoneNumber)'),
  40163: refuse(400, 'PHONE_CODE_INVALID', 'the phone number code was already used; ask the user again (getPhoneNumber)'),
};

/** Redeems the `code` of a getPhoneNumber button. */
export async function getPhoneNumber(client: WeChatClient, code: string): Promise<PhoneNumber> {
  const data = await mapErrors(PHONE_ERRORS, () => client.json(PHONE_API, { body: { code } }));
  const info = data.phone_info;
  if (!isRecord(info) || !str(info.phoneNumber) || !str(info.purePhoneNumber) || info.countryCode === undefined) {
    throw unexpected(PHONE_API, 'phone_info');
  }
  const wm = info.watermark;
  if (isRecord(wm) && wm.appid !== undefined && wm.appid !== client.tenant.appid) {
    throw new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${PHONE_API} for another mini program`);
  }
  return { phoneNumber: info.phoneNumber, purePhoneNumber: info.purePhoneNumber, countryCode: String(info.countryCode) };
}

// ---------------------------------------------------------------------------------------------
// wxacode

export const WXACODE_API = '/wxa/getwxacodeunlimit';
/** Real codes are tens of kilobytes; anything near this is not an image we want to hold. */
const WXACODE_MAX_BYTES = 4 * 1024 * 1024;
/** The image body must arrive within this (the client's timeout stops at the response headers). */
const WXACODE_BODY_TIMEOUT_MS = 10_000;

export interface WxaCodeArgs {
  scene: string;
  page?: string;
  width?: number;
  env_version?: 'release' | 'trial' | 'develop';
  check_path?: boolean;
  auto_color?: boolean;
  is_hyaline?: boolean;
  line_color?: { r: number; g: number; b: number };
}

const WXACODE_ERRORS: ErrorTable = {
  40097: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the wxacode arguments'),
  40129: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the scene'),
  40169: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the scene (length or characters)'),
  41030: refuse(400, 'INVALID_PAGE', 'the page does not exist in the published mini program (or check_path is on for an unpublished page)'),
};

/** An unlimited mini-program code as image bytes; a JSON answer becomes an error, never an image. */
export async function getUnlimitedWxaCode(client: WeChatClient, args: WxaCodeArgs): Promise<{ contentType: string; data: Buffer }> {
  const res = await mapErrors(WXACODE_ERRORS, () => client.binary(WXACODE_API, { body: args }));
  if (!/^image\//i.test(res.contentType)) {
    res.stream.resume();
    throw new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat answered ${WXACODE_API} with ${res.contentType} instead of an image`);
  }
  let data: Buffer;
  try {
    data = await readAll(res.stream, WXACODE_MAX_BYTES, WXACODE_BODY_TIMEOUT_MS);
  } catch (err) {
    throw new AppError(502, 'WECHAT_UNEXPECTED_RESPONSE', `WeChat's answer to ${WXACODE_API} could not be read`, { cause: err });
  }
  if (data.length === 0) throw unexpected(WXACODE_API, 'image data');
  return { contentType: res.contentType, data };
}

// ---------------------------------------------------------------------------------------------
// messages

export const SUBSCRIBE_API = '/cgi-bin/message/subscribe/send';
export const CUSTOMER_API = '/cgi-bin/message/custom/send';

export interface SubscribeMessage {
  touser: string;
  template_id: string;
  page?: string;
  data: Record<string, { value: string | number }>;
  miniprogram_state?: 'developer' | 'trial' | 'formal';
  lang?: 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW';
}

const OPENID_ERROR = refuse(400, 'INVALID_OPENID', 'WeChat does not know this openid for this mini program');

const SUBSCRIBE_ERRORS: ErrorTable = {
  40003: OPENID_ERROR,
  40037: refuse(400, 'INVALID_TEMPLATE', 'the template_id is not a subscribe-message template of this mini program'),
  43101: refuse(400, 'USER_REFUSED_SUBSCRIPTION', 'the user has not accepted (or has used up) this subscription'),
  47003: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused a template data value (wrong format or too long for its field)'),
  41030: refuse(400, 'INVALID_PAGE', 'the page does not exist in the mini program'),
};

const CUSTOMER_ERRORS: ErrorTable = {
  40003: OPENID_ERROR,
  40007: refuse(400, 'INVALID_MEDIA_ID', 'the media_id is unknown or expired'),
  40008: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the message type'),
  45015: refuse(403, 'REPLY_WINDOW_CLOSED', 'the user has not written to customer service in the last 48 hours'),
  45047: refuse(403, 'REPLY_LIMIT_REACHED', 'too many customer-service messages since the user last wrote'),
};

export async function sendSubscribeMessage(client: WeChatClient, msg: SubscribeMessage): Promise<{ msgid?: number | string }> {
  const data = await mapErrors(SUBSCRIBE_ERRORS, () => client.json(SUBSCRIBE_API, { body: msg }));
  const msgid = data.msgid;
  return typeof msgid === 'number' || typeof msgid === 'string' ? { msgid } : {};
}

export async function sendCustomerMessage(client: WeChatClient, msg: CustomerMessage): Promise<void> {
  await mapErrors(CUSTOMER_ERRORS, () => client.json(CUSTOMER_API, { body: msg }));
}

// ---------------------------------------------------------------------------------------------
// content security

export const MSG_SEC_CHECK_API = '/wxa/msg_sec_check';

export interface TextCheckArgs {
  content: string;
  openid: string;
  /** 1 profile, 2 comment, 3 forum, 4 social log. */
  scene: 1 | 2 | 3 | 4;
  title?: string;
  nickname?: string;
  signature?: string;
}

export interface TextCheckResult {
  suggest: 'pass' | 'review' | 'risky';
  label: number;
  traceId?: string;
}

const SEC_CHECK_ERRORS: ErrorTable = {
  40003: OPENID_ERROR,
  61010: refuse(400, 'USER_INACTIVE', 'the user must have opened the mini program in the last 2 hours'),
};

/** msg_sec_check version 2. */
export async function checkText(client: WeChatClient, args: TextCheckArgs): Promise<TextCheckResult> {
  const data = await mapErrors(SEC_CHECK_ERRORS, () => client.json(MSG_SEC_CHECK_API, { body: { version: 2, ...args } }));
  const r = data.result;
  if (!isRecord(r) || !['pass', 'review', 'risky'].includes(String(r.suggest)) || typeof r.label !== 'number') {
    throw unexpected(MSG_SEC_CHECK_API, 'a result');
  }
  const out: TextCheckResult = { suggest: r.suggest as TextCheckResult['suggest'], label: r.label };
  if (str(data.trace_id)) out.traceId = data.trace_id;
  return out;
}

// ---------------------------------------------------------------------------------------------
// temporary media

export const MEDIA_UPLOAD_API = '/cgi-bin/media/upload';
export const MEDIA_GET_API = '/cgi-bin/media/get';

export type MediaType = 'image' | 'voice' | 'video' | 'thumb';

export interface MediaFile {
  bytes: Buffer;
  /** Must carry the right extension: WeChat decides the file type by the name. */
  filename: string;
  contentType: string;
}

export interface UploadedMedia {
  type: string;
  mediaId: string;
  createdAt: number;
}

const MEDIA_ERRORS: ErrorTable = {
  40004: refuse(400, 'INVALID_MEDIA_TYPE', 'WeChat refused the media type'),
  40005: refuse(415, 'UNSUPPORTED_MEDIA_TYPE', 'WeChat refused the file type'),
  40006: refuse(413, 'PAYLOAD_TOO_LARGE', 'WeChat refused the file size'),
  40007: refuse(404, 'MEDIA_NOT_FOUND', 'the media_id is unknown or expired (temporary media live 3 days)'),
  41005: refuse(400, 'MEDIA_MISSING', 'WeChat received no media data'),
};

/** Builds a multipart/form-data body with one file field `media` (re-sendable bytes). */
export async function multipartMedia(file: MediaFile): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  form.append('media', new Blob([new Uint8Array(file.bytes)], { type: file.contentType }), file.filename);
  const encoded = new Response(form);
  const contentType = encoded.headers.get('content-type');
  if (!contentType) throw new Error('FormData produced no content type');
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType };
}

export async function uploadTempMedia(client: WeChatClient, type: MediaType, file: MediaFile): Promise<UploadedMedia> {
  const { body, contentType } = await multipartMedia(file);
  const data = await mapErrors(MEDIA_ERRORS, () => client.json(MEDIA_UPLOAD_API, { method: 'POST', query: { type }, body, headers: { 'content-type': contentType } }));
  if (!str(data.media_id)) throw unexpected(MEDIA_UPLOAD_API, 'a media_id');
  return { type: String(data.type ?? type), mediaId: data.media_id, createdAt: Number(data.created_at ?? 0) };
}

export type TempMedia =
  | { kind: 'bytes'; contentType: string; headers: Record<string, string>; stream: Readable }
  /** Video media are answered as a download URL instead of bytes. */
  | { kind: 'url'; url: string };

export async function getTempMedia(client: WeChatClient, mediaId: string): Promise<TempMedia> {
  return mapErrors(MEDIA_ERRORS, async () => {
    const res = await client.execute(MEDIA_GET_API, { method: 'GET', query: { media_id: mediaId } });
    if (res.kind === 'binary') return { kind: 'bytes', contentType: res.contentType, headers: res.headers, stream: res.stream };
    assertOk(MEDIA_GET_API, res.data);
    if (str(res.data.video_url)) return { kind: 'url', url: res.data.video_url };
    throw unexpected(MEDIA_GET_API, 'media data');
  });
}

// ---------------------------------------------------------------------------------------------
// links

export const URLLINK_API = '/wxa/generate_urllink';
export const SCHEME_API = '/wxa/generatescheme';

export interface LinkTarget {
  path?: string;
  query?: string;
  env_version?: 'release' | 'trial' | 'develop';
}

export interface LinkExpiry {
  /** 0: expire_time (unix seconds); 1: expire_interval (days). */
  expire_type?: 0 | 1;
  expire_time?: number;
  expire_interval?: number;
}

const LINK_ERRORS: ErrorTable = {
  40097: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the link arguments'),
  40165: refuse(400, 'INVALID_PAGE', 'the path is not a page of the published mini program'),
  85401: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the expiry (between 1 minute and 30 days from now)'),
  85402: refuse(400, 'WECHAT_REJECTED_INPUT', 'WeChat refused the expiry interval (1 to 30 days)'),
};

export async function generateUrlLink(client: WeChatClient, args: LinkTarget & LinkExpiry): Promise<{ urlLink: string }> {
  const data = await mapErrors(LINK_ERRORS, () => client.json(URLLINK_API, { body: args }));
  if (!str(data.url_link)) throw unexpected(URLLINK_API, 'url_link');
  return { urlLink: data.url_link };
}

export async function generateScheme(client: WeChatClient, args: { jump_wxa?: LinkTarget; is_expire?: boolean } & LinkExpiry): Promise<{ openlink: string }> {
  const data = await mapErrors(LINK_ERRORS, () => client.json(SCHEME_API, { body: args }));
  if (!str(data.openlink)) throw unexpected(SCHEME_API, 'openlink');
  return { openlink: data.openlink };
}
