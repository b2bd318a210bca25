import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { aesKeyFromEncodingKey, encryptMessage } from '../protocol/msg-crypto';
import { msgSignature, pushSignature } from '../protocol/signature';

/**
 * Builds pushes exactly as WeChat sends them to a mini program's message URL, and delivers them
 * with WeChat's retry behaviour. Used by tests and by `npm run sandbox -- push`.
 */
export type PushMode = 'plain' | 'compatible' | 'safe';
export type PushFormat = 'xml' | 'json';
export const PUSH_KINDS = [
  'text',
  'image',
  'voice',
  'video',
  'location',
  'link',
  'miniprogrampage',
  'user_enter_tempsession',
  'subscribe_msg_popup_event',
  'subscribe_msg_change_event',
  'subscribe_msg_sent_event',
  'wxa_media_check',
] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

export interface PushTarget {
  appid: string;
  token: string;
  aesKey: string;
}

/** A push value: strings, numbers, nested objects, or arrays (repeated XML elements). */
export type PushValue = string | number | PushFields | PushFields[];
export interface PushFields {
  [k: string]: PushValue;
}

let msgSeq = 0;

/** A realistic push of the given kind; `overrides` replace top-level fields. */
export function samplePush(kind: PushKind, opts: { fromUser?: string; createTime?: number; content?: string; overrides?: PushFields } = {}): PushFields {
  const base: PushFields = {
    ToUserName: 'gh_0123456789ab',
    FromUserName: opts.fromUser ?? 'oUser_' + randomBytes(6).toString('hex'),
    CreateTime: opts.createTime ?? Math.floor(Date.now() / 1000),
  };
  const msgId = () => `${Date.now()}${String(++msgSeq).padStart(6, '0')}`.slice(0, 19);
  const byKind: Record<PushKind, PushFields> = {
    text: { MsgType: 'text', Content: opts.content ?? 'hello', MsgId: msgId() },
    image: { MsgType: 'image', PicUrl: 'https://example.invalid/p.jpg', MediaId: 'media_' + msgSeq, MsgId: msgId() },
    voice: { MsgType: 'voice', MediaId: 'media_' + msgSeq, Format: 'amr', MsgId: msgId() },
    video: { MsgType: 'video', MediaId: 'media_' + msgSeq, ThumbMediaId: 'thumb_' + msgSeq, MsgId: msgId() },
    location: { MsgType: 'location', Location_X: '23.134521', Location_Y: '113.358803', Scale: '20', Label: 'Guangzhou', MsgId: msgId() },
    link: { MsgType: 'link', Title: 'A link', Description: 'desc', Url: 'https://example.invalid/', MsgId: msgId() },
    miniprogrampage: {
      MsgType: 'miniprogrampage',
      Title: 'Card',
      AppId: 'wx0123456789abcdef',
      PagePath: 'pages/index/index',
      ThumbUrl: 'https://example.invalid/t.jpg',
      ThumbMediaId: 'thumb',
      MsgId: msgId(),
    },
    user_enter_tempsession: { MsgType: 'event', Event: 'user_enter_tempsession', SessionFrom: 'sandbox' },
    subscribe_msg_popup_event: {
      MsgType: 'event',
      Event: 'subscribe_msg_popup_event',
      SubscribeMsgPopupEvent: {
        List: [
          { TemplateId: 'tmpl_a', SubscribeStatusString: 'accept', PopupScene: '0' },
          { TemplateId: 'tmpl_b', SubscribeStatusString: 'reject', PopupScene: '0' },
        ],
      },
    },
    subscribe_msg_change_event: {
      MsgType: 'event',
      Event: 'subscribe_msg_change_event',
      SubscribeMsgChangeEvent: { List: { TemplateId: 'tmpl_a', SubscribeStatusString: 'reject' } },
    },
    subscribe_msg_sent_event: {
      MsgType: 'event',
      Event: 'subscribe_msg_sent_event',
      SubscribeMsgSentEvent: { List: { TemplateId: 'tmpl_a', MsgID: '1700000000000000000', ErrorCode: '0', ErrorStatus: 'success' } },
    },
    wxa_media_check: {
      MsgType: 'event',
      Event: 'wxa_media_check',
      appid: 'wx0123456789abcdef',
      trace_id: 'trace_' + msgSeq,
      version: 2,
      result: { suggest: 'pass', label: 100 },
      detail: [{ strategy: 'content_model', errcode: 0, suggest: 'pass', label: 100, prob: 90 }],
    },
  };
  return { ...base, ...byKind[kind], ...(opts.overrides ?? {}) };
}

export function toXml(fields: PushFields): string {
  return `<xml>${xmlFields(fields)}</xml>`;
}

function xmlFields(fields: PushFields): string {
  return Object.entries(fields)
    .map(([k, v]) => {
      if (Array.isArray(v)) return v.map((item) => `<${k}>${xmlFields(item)}</${k}>`).join('');
      if (typeof v === 'object') return `<${k}>${xmlFields(v)}</${k}>`;
      if (typeof v === 'number') return `<${k}>${v}</${k}>`;
      return `<${k}><![CDATA[${v.replace(/]]>/g, ']]]]><![CDATA[>')}]]></${k}>`;
    })
    .join('');
}

export interface BuiltPush {
  query: Record<string, string>;
  body: string;
  contentType: string;
  /** The plaintext message, for assertions. */
  plaintext: string;
}

/** Signs (and in compatible/safe mode encrypts) a push the way WeChat does. */
export function buildPush(target: PushTarget, fields: PushFields, opts: { format: PushFormat; mode: PushMode; timestamp?: number; nonce?: string }): BuiltPush {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(randomBytes(4).readUInt32BE(0));
  const plaintext = opts.format === 'xml' ? toXml(fields) : JSON.stringify(fields);
  const query: Record<string, string> = { signature: pushSignature(target.token, timestamp, nonce), timestamp, nonce, openid: String(fields.FromUserName ?? '') };
  const contentType = opts.format === 'xml' ? 'text/xml' : 'application/json';
  if (opts.mode === 'plain') return { query, body: plaintext, contentType, plaintext };
  const encrypt = encryptMessage(aesKeyFromEncodingKey(target.aesKey), target.appid, plaintext);
  query.encrypt_type = 'aes';
  query.msg_signature = msgSignature(target.token, timestamp, nonce, encrypt);
  const outer: PushFields = opts.mode === 'compatible' ? { ...fields, Encrypt: encrypt } : { ToUserName: fields.ToUserName ?? '', Encrypt: encrypt };
  const body = opts.format === 'xml' ? toXml(outer) : JSON.stringify(outer);
  return { query, body, contentType, plaintext };
}

export interface DeliveryAttempt {
  status?: number;
  body?: string;
  contentType?: string;
  error?: string;
  ms: number;
}

/**
 * Posts like WeChat: waits `timeoutMs` (5 s) for an answer, and when none comes (or the answer is
 * not a 2xx), tries again, `retries` more times.
 */
export async function deliverPush(url: string, push: BuiltPush, opts: { timeoutMs?: number; retries?: number } = {}): Promise<DeliveryAttempt[]> {
  const attempts: DeliveryAttempt[] = [];
  const retries = opts.retries ?? 3;
  for (let i = 0; i <= retries; i++) {
    const started = Date.now();
    try {
      const res = await axios.post<string>(url, push.body, {
        params: push.query,
        headers: { 'content-type': push.contentType },
        timeout: opts.timeoutMs ?? 5000,
        responseType: 'text',
        transformResponse: [(d: string) => d],
        validateStatus: () => true,
      });
      attempts.push({ status: res.status, body: res.data, contentType: String(res.headers['content-type'] ?? ''), ms: Date.now() - started });
      if (res.status >= 200 && res.status < 300) return attempts;
    } catch (err) {
      attempts.push({ error: (err as { code?: string }).code ?? (err as Error).message, ms: Date.now() - started });
    }
  }
  return attempts;
}
