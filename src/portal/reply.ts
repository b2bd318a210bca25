/**
 * Passive replies (the HTTP answer to a push), plain or wrapped in the encrypted envelope, in the
 * push's own format: WeChat parses the answer in the format configured for the mini program.
 */
import type { PushFormat } from './body-parse';
import type { PushMessage } from './message';
import { encryptMessage } from '../protocol/msg-crypto';
import type { Reply } from './rules';
import { msgSignature } from '../protocol/signature';

/**
 * Characters XML 1.0 forbids even inside CDATA (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF,
 * unpaired surrogates). Dropped: one of them would make WeChat reject the whole reply.
 */
const XML_INVALID_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Any character XML_INVALID_CHARS could match (every surrogate, paired or not): only then is the full pattern run. */
const MAY_NEED_CLEANING = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * A CDATA section holding exactly `s`. A CDATA section cannot contain `]]>`, so each occurrence is
 * split across two sections (`]]` ends the first, `>` starts the second); an XML reader joins
 * them back to the original text.
 */
export function cdata(s: string): string {
  // Almost every value has nothing to drop or split: one cheap test spares the replace and the split.
  if (!MAY_NEED_CLEANING.test(s) && !s.includes(']]>')) return `<![CDATA[${s}]]>`;
  return `<![CDATA[${s.replace(XML_INVALID_CHARS, '').split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

function assertSeconds(t: number, name: string): void {
  // A millisecond timestamp is the classic mistake here; anything above 1e11 (year 5138 in
  // seconds) is one. Programming error, so a plain Error.
  if (!Number.isSafeInteger(t) || t < 0 || t >= 1e11) throw new Error(`${name} must be whole seconds since the epoch`);
}

/** The fields of a reply, in WeChat's order, with ToUser/FromUser swapped from the push. */
function replyFields(push: Pick<PushMessage, 'toUser' | 'fromUser'>, reply: Reply, createTime: number) {
  const head = { ToUserName: push.fromUser, FromUserName: push.toUser, CreateTime: createTime, MsgType: reply.type };
  switch (reply.type) {
    case 'text':
      return { ...head, Content: reply.content };
    case 'image':
      return { ...head, Image: { MediaId: reply.mediaId } };
    case 'transfer_customer_service':
      return head;
  }
}

/**
 * Builds a passive reply to `push`. `createTime` is in seconds (passed in: this module reads no
 * clock). XML strings go in CDATA, numbers bare, like WeChat's own samples.
 */
export function buildPassiveReply(push: Pick<PushMessage, 'toUser' | 'fromUser'>, reply: Reply, format: PushFormat, createTime: number): string {
  assertSeconds(createTime, 'createTime');
  if (format === 'json') return JSON.stringify(replyFields(push, reply, createTime));
  let xml = `<xml><ToUserName>${cdata(push.fromUser)}</ToUserName><FromUserName>${cdata(push.toUser)}</FromUserName>`;
  xml += `<CreateTime>${createTime}</CreateTime><MsgType>${cdata(reply.type)}</MsgType>`;
  if (reply.type === 'text') xml += `<Content>${cdata(reply.content)}</Content>`;
  if (reply.type === 'image') xml += `<Image><MediaId>${cdata(reply.mediaId)}</MediaId></Image>`;
  return `${xml}</xml>`;
}

/**
 * Wraps a plain reply (as built by buildPassiveReply) in the encrypted envelope of safe mode:
 * Encrypt = the cipher with a new random prefix; MsgSignature over token, timestamp (seconds),
 * nonce and Encrypt. `randomPrefix` is for reproducible tests only.
 */
export function encryptReply(key: Buffer, token: string, appid: string, plainReply: string, format: PushFormat, timestamp: number, nonce: string, randomPrefix?: Buffer): string {
  assertSeconds(timestamp, 'timestamp');
  if (nonce === '') throw new Error('nonce must not be empty');
  const encrypt = encryptMessage(key, appid, plainReply, randomPrefix);
  const signature = msgSignature(token, String(timestamp), nonce, encrypt);
  if (format === 'json') {
    return JSON.stringify({ Encrypt: encrypt, MsgSignature: signature, TimeStamp: timestamp, Nonce: nonce });
  }
  return `<xml><Encrypt>${cdata(encrypt)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` + `<TimeStamp>${timestamp}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`;
}
