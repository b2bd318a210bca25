/** Subscribe and customer-service messages: validation as WeChat does it, and a log of accepted ones. */
import { isObject } from './http';
import { WxError } from './wx-errors';

export type MessageKind = 'subscribe' | 'custom';

export interface SentMessage {
  appid: string;
  body: Record<string, unknown>;
  /** Clock time of acceptance, ms. */
  at: number;
}

export const CUSTOM_MSG_TYPES = ['text', 'image', 'link', 'miniprogrampage'] as const;
const MINIPROGRAM_STATES = ['developer', 'trial', 'formal'];
const LANGS = ['zh_CN', 'en_US', 'zh_HK', 'zh_TW'];

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * 40003 missing touser, 40037 missing template_id, 47001 data not an object / bad state or lang,
 * 47003 a data item without a scalar `value`.
 */
export function validateSubscribe(body: Record<string, unknown>): void {
  if (!nonEmptyString(body.touser)) throw new WxError(40003);
  if (!nonEmptyString(body.template_id)) throw new WxError(40037);
  if (!isObject(body.data)) throw new WxError(47001);
  for (const [key, v] of Object.entries(body.data)) {
    if (!isObject(v) || v.value === undefined || v.value === null || typeof v.value === 'object') {
      throw new WxError(47003, `argument invalid! data.${key}.value invalid`);
    }
  }
  if (body.page !== undefined && typeof body.page !== 'string') throw new WxError(47001);
  if (body.miniprogram_state !== undefined && !MINIPROGRAM_STATES.includes(String(body.miniprogram_state))) {
    throw new WxError(47001, 'data format error, invalid miniprogram_state');
  }
  if (body.lang !== undefined && !LANGS.includes(String(body.lang))) throw new WxError(47001, 'data format error, invalid lang');
}

/** 40003 missing touser, 40008 unknown msgtype, 47001 missing/malformed message object. */
export function validateCustom(body: Record<string, unknown>): void {
  if (!nonEmptyString(body.touser)) throw new WxError(40003);
  const type = body.msgtype;
  if (typeof type !== 'string' || !(CUSTOM_MSG_TYPES as readonly string[]).includes(type)) throw new WxError(40008);
  const msg = body[type];
  if (!isObject(msg)) throw new WxError(47001);
  const required: Record<string, string[]> = {
    text: ['content'],
    image: ['media_id'],
    link: ['title', 'description', 'url', 'thumb_url'],
    miniprogrampage: ['title', 'pagepath', 'thumb_media_id'],
  };
  for (const field of required[type]) {
    if (!nonEmptyString(msg[field])) throw new WxError(47001, `data format error, ${type}.${field} missing`);
  }
}

export class MessageLog {
  private readonly sent: Record<MessageKind, SentMessage[]> = { subscribe: [], custom: [] };

  record(kind: MessageKind, appid: string, body: Record<string, unknown>, at: number): void {
    this.sent[kind].push({ appid, body: structuredClone(body), at });
  }

  list(kind: MessageKind): SentMessage[] {
    return this.sent[kind].map((m) => ({ ...m, body: structuredClone(m.body) }));
  }

  clear(): void {
    this.sent.subscribe.length = 0;
    this.sent.custom.length = 0;
  }
}
