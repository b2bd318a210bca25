/**
 * One normalised shape for every kind of push, whatever its format (XML values are all strings,
 * JSON values may be numbers) and whatever its kind. Kinds and events we do not know are kept:
 * their fields stay in `raw`, so they can still be forwarded to the tenant's webhook.
 */
import { AppError } from '../kernel/errors';
import { isRecord } from '../kernel/records';

/** The message types WeChat documents; other values are passed through as they are. */
export type KnownMsgType = 'text' | 'image' | 'voice' | 'video' | 'location' | 'link' | 'miniprogrampage' | 'event';

/** One template in a subscribe-message event (`List` item). */
export interface SubscribeListItem {
  templateId?: string;
  /** popup / change events: `accept` or `reject`. */
  subscribeStatus?: string;
  /** popup event: where the dialog was shown. */
  popupScene?: string;
  /** sent event: the id of the sent message (64-bit, kept as digits). */
  msgId?: string;
  /** sent event: 0 on success. */
  errorCode?: string;
  /** sent event: `success` or the failure reason. */
  errorStatus?: string;
  raw: Record<string, unknown>;
}

/** Result of an asynchronous media check (`wxa_media_check`). */
export interface MediaCheckResult {
  traceId?: string;
  /** v2: `risky`, `pass` or `review`. */
  suggest?: string;
  /** v2: the label code. */
  label?: string;
  /** v1: `1` when risky. */
  isRisky?: string;
  /** v1: non-zero when the check itself failed. */
  statusCode?: string;
}

export interface PushMessage {
  /** The tenant's appid (the push itself carries only the original id, gh_...). */
  appid: string;
  /** ToUserName: the mini program's original id. */
  toUser: string;
  /** FromUserName: the user's openid. */
  fromUser: string;
  /** Seconds since the epoch. */
  createTime: number;
  msgType: KnownMsgType | (string & {});
  /** Present for messages; a 64-bit integer as decimal digits. */
  msgId?: string;
  /** Present when msgType is `event`. */
  event?: string;
  /** text. */
  content?: string;
  /** image, voice, video. */
  mediaId?: string;
  /** image. */
  picUrl?: string;
  /** voice: amr, speex, ... */
  voiceFormat?: string;
  /** voice with recognition on. */
  recognition?: string;
  /** video, miniprogrampage. */
  thumbMediaId?: string;
  /** location. */
  location?: { x?: number; y?: number; scale?: number; label?: string };
  /** link, miniprogrampage. */
  title?: string;
  /** link. */
  description?: string;
  /** link. */
  url?: string;
  /** miniprogrampage: the appid of the shared page's mini program. */
  pageAppId?: string;
  /** miniprogrampage. */
  pagePath?: string;
  /** miniprogrampage. */
  thumbUrl?: string;
  /** user_enter_tempsession: the `session-from` of the contact button. */
  sessionFrom?: string;
  /** subscribe_msg_* events: always an array, even when WeChat sent one object. */
  subscribeList?: SubscribeListItem[];
  /** wxa_media_check event. */
  mediaCheck?: MediaCheckResult;
  /** Every field as received (after body parsing), including those not mapped above. */
  raw: Record<string, unknown>;
}

const malformedMessage = (field: string): AppError =>
  new AppError(400, 'MALFORMED_MESSAGE', `Push message has a missing or invalid ${field}`, {
    details: { field },
  });

/** A scalar as text: numbers and booleans are stringified, objects and arrays are not text. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isFinite(v)) {
    // An integer through BigInt avoids exponent notation (1e+21). Integers beyond 2^53 never
    // arrive as numbers from parsePushBody; if one does, its digits were lost before us.
    return Number.isInteger(v) ? BigInt(v).toString() : String(v);
  }
  return undefined;
}

function num(v: unknown): number | undefined {
  const s = text(v)?.trim();
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function requiredText(fields: Record<string, unknown>, name: string): string {
  const v = text(fields[name]);
  if (v === undefined || v.trim() === '') throw malformedMessage(name);
  return v;
}

/** CreateTime comes as "1610969440" (XML, and sometimes JSON) or 1610969440. */
function createTimeOf(fields: Record<string, unknown>): number {
  const v = fields.CreateTime;
  const s = typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : typeof v === 'string' ? v.trim() : '';
  if (!/^[0-9]{1,15}$/.test(s)) throw malformedMessage('CreateTime');
  return Number(s);
}

const SUBSCRIBE_CONTAINERS = ['SubscribeMsgPopupEvent', 'SubscribeMsgChangeEvent', 'SubscribeMsgSentEvent'] as const;

/**
 * The `List` of subscribe-message events: at the top level in JSON, inside
 * `<SubscribeMsgPopupEvent>` (or ...Change..., ...Sent...) in XML; one object for one template, an
 * array for several.
 */
function subscribeListOf(fields: Record<string, unknown>): SubscribeListItem[] | undefined {
  let list: unknown = fields.List;
  if (list === undefined) {
    for (const name of SUBSCRIBE_CONTAINERS) {
      const container = fields[name];
      if (isRecord(container) && container.List !== undefined) {
        list = container.List;
        break;
      }
    }
  }
  if (list === undefined || list === '') return undefined;
  const items = Array.isArray(list) ? list : [list];
  return items.filter(isRecord).map((item) =>
    compact({
      templateId: text(item.TemplateId),
      subscribeStatus: text(item.SubscribeStatusString),
      popupScene: text(item.PopupScene),
      msgId: text(item.MsgID ?? item.MsgId),
      errorCode: text(item.ErrorCode),
      errorStatus: text(item.ErrorStatus),
      raw: item,
    }),
  );
}

function mediaCheckOf(fields: Record<string, unknown>): MediaCheckResult {
  const result = isRecord(fields.result) ? fields.result : {};
  return {
    traceId: text(fields.trace_id),
    suggest: text(result.suggest),
    label: text(result.label),
    isRisky: text(fields.isrisky),
    statusCode: text(fields.status_code),
  };
}

/** Drops undefined members so deep-equality checks and JSON output stay tidy. */
function compact<T extends object>(o: T): T {
  for (const key of Object.keys(o) as Array<keyof T>) {
    if (o[key] === undefined) delete o[key];
  }
  return o;
}

/**
 * Builds the normalised message from parsed push fields. ToUserName, FromUserName, CreateTime and
 * MsgType are required (400 MALFORMED_MESSAGE otherwise); everything else is optional, because
 * WeChat adds fields over time and a push we cannot fully read should still be accepted.
 */
export function normalise(fields: Record<string, unknown>, appid: string): PushMessage {
  const msg: PushMessage = {
    appid,
    toUser: requiredText(fields, 'ToUserName'),
    fromUser: requiredText(fields, 'FromUserName'),
    createTime: createTimeOf(fields),
    msgType: requiredText(fields, 'MsgType').trim(),
    raw: fields,
  };
  msg.msgId = text(fields.MsgId);

  switch (msg.msgType) {
    case 'text':
      msg.content = text(fields.Content);
      break;
    case 'image':
      msg.picUrl = text(fields.PicUrl);
      msg.mediaId = text(fields.MediaId);
      break;
    case 'voice':
      msg.mediaId = text(fields.MediaId);
      msg.voiceFormat = text(fields.Format);
      msg.recognition = text(fields.Recognition);
      break;
    case 'video':
    case 'shortvideo':
      msg.mediaId = text(fields.MediaId);
      msg.thumbMediaId = text(fields.ThumbMediaId);
      break;
    case 'location':
      msg.location = compact({
        x: num(fields.Location_X),
        y: num(fields.Location_Y),
        scale: num(fields.Scale),
        label: text(fields.Label),
      });
      break;
    case 'link':
      msg.title = text(fields.Title);
      msg.description = text(fields.Description);
      msg.url = text(fields.Url);
      break;
    case 'miniprogrampage':
      msg.title = text(fields.Title);
      msg.pageAppId = text(fields.AppId);
      msg.pagePath = text(fields.PagePath);
      msg.thumbUrl = text(fields.ThumbUrl);
      msg.thumbMediaId = text(fields.ThumbMediaId);
      break;
    case 'event':
      msg.event = text(fields.Event)?.trim();
      switch (msg.event) {
        case 'user_enter_tempsession':
          msg.sessionFrom = text(fields.SessionFrom);
          break;
        case 'subscribe_msg_popup_event':
        case 'subscribe_msg_change_event':
        case 'subscribe_msg_sent_event':
          msg.subscribeList = subscribeListOf(fields) ?? [];
          break;
        case 'wxa_media_check':
          msg.mediaCheck = compact(mediaCheckOf(fields));
          break;
        default:
          break; // unknown event: its fields stay in raw
      }
      break;
    default:
      break; // unknown message type: its fields stay in raw
  }
  return compact(msg);
}

/**
 * The key under which a push is remembered to drop WeChat's retries (it redelivers after 5 s
 * without an answer). MsgId alone has been seen to collide, hence FromUserName and CreateTime too;
 * events have no MsgId, so they use FromUserName + CreateTime + Event. Each part is URI-encoded so
 * a ':' inside a value cannot make two different pushes share a key.
 */
export function dedupKey(msg: PushMessage): string {
  const k = (parts: Array<string | number>): string => parts.map((p) => encodeURIComponent(String(p))).join(':');
  if (msg.msgType === 'event') {
    return `evt:${k([msg.appid, msg.fromUser, msg.createTime, msg.event ?? ''])}`;
  }
  if (msg.msgId !== undefined) {
    return `msg:${k([msg.appid, msg.msgId, msg.fromUser, msg.createTime])}`;
  }
  // A message without MsgId (not documented, but do not let all of them collide): add the type.
  return `msg:${k([msg.appid, '', msg.fromUser, msg.createTime, msg.msgType])}`;
}
