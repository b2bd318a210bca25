/**
 * Events WeChat posts to a platform's authorization event URL, built exactly like WeChat's safe-mode pushes: the inner
 * XML (`AppId`, `CreateTime`, `InfoType`, ...) is encrypted with the platform's EncodingAESKey and the component appid
 * as the cipher's appid; the body is `<xml><AppId>..</AppId><Encrypt>..</Encrypt></xml>`; the query carries
 * `signature`, `timestamp`, `nonce`, `encrypt_type=aes` and `msg_signature`. One attempt per event, every one recorded.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../../kernel/clock';
import { aesKeyFromEncodingKey, encryptMessage } from '../../protocol/msg-crypto';
import { msgSignature, pushSignature } from '../../protocol/signature';
import { postText } from '../outbound';
import { toXml, type PushFields } from '../push-simulator';
import { unixSeconds } from '../time';
import type { Platform } from './registry';
import type { PlatformEvent, PlatformInfoType } from './types';

export interface BuiltEvent {
  query: Record<string, string>;
  body: string;
  plaintext: string;
}

/** The signed, encrypted form of an event's fields. */
export function buildEvent(p: Platform, fields: PushFields, timestamp: number, nonce: string = String(randomInt(1e9, 1e10))): BuiltEvent {
  const plaintext = toXml(fields);
  const encrypt = encryptMessage(aesKeyFromEncodingKey(p.aesKey), p.componentAppid, plaintext);
  const ts = String(timestamp);
  const query = {
    signature: pushSignature(p.token, ts, nonce),
    timestamp: ts,
    nonce,
    encrypt_type: 'aes',
    msg_signature: msgSignature(p.token, ts, nonce, encrypt),
  };
  return { query, body: toXml({ AppId: p.componentAppid, Encrypt: encrypt }), plaintext };
}

function withQuery(url: string, query: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

export class PlatformEvents {
  private readonly log: PlatformEvent[] = [];

  constructor(private readonly clock: Clock) {}

  /** Builds, posts (when the platform has an event URL) and records an event; `fields` follow AppId, CreateTime, InfoType. */
  async send(p: Platform, infoType: PlatformInfoType, fields: PushFields = {}, authorizerAppid?: string): Promise<PlatformEvent> {
    const at = this.clock.now();
    const built = buildEvent(p, { AppId: p.componentAppid, CreateTime: unixSeconds(at), InfoType: infoType, ...fields }, unixSeconds(at));
    const url = p.eventUrl ?? '';
    const answer = url === '' ? { status: 0, body: 'no event URL set' } : await postText(withQuery(url, built.query), { 'Content-Type': 'text/xml' }, built.body);
    const event: PlatformEvent = {
      componentAppid: p.componentAppid,
      infoType,
      ...(authorizerAppid === undefined ? {} : { authorizerAppid }),
      url,
      at,
      status: answer.status,
      responseBody: answer.body,
      query: built.query,
      body: built.body,
      plaintext: built.plaintext,
    };
    this.log.push(event);
    return structuredClone(event);
  }

  list(): PlatformEvent[] {
    return structuredClone(this.log);
  }

  clear(): void {
    this.log.length = 0;
  }
}
