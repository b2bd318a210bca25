/**
 * Payment and refund notifications: the encrypted event body, signed afresh for every attempt, POSTed to the
 * merchant's notify_url; every notification and attempt is recorded. Retries are explicit (resend), as a
 * merchant's answer other than 2xx would make WeChat Pay try again later.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../../kernel/clock';
import { unixSeconds } from '../time';
import type { MerchantRegistry } from './merchants';
import { AUTH_SCHEMA, encryptResource, signedHeaders } from './pay-crypto';
import { payTime } from './pay-errors';
import type { NotificationAttempt, PayEventType, PayNotification } from './types';

const POST_TIMEOUT_MS = 5000;
const MAX_ANSWER_CHARS = 64 * 1024;

export interface NotificationInput {
  mchid: string;
  url: string;
  eventType: PayEventType;
  summary: string;
  originalType: 'transaction' | 'refund';
  plaintext: Record<string, unknown>;
}

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ status: 0, body: `invalid url ${url}` });
      return;
    }
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, timeout: POST_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (text.length < MAX_ANSWER_CHARS) text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${POST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end(body);
  });
}

export class Notifier {
  private readonly log: PayNotification[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly merchants: MerchantRegistry,
  ) {}

  /** Builds, records and posts a notification; resolves with its record after the first attempt. */
  async send(n: NotificationInput): Promise<PayNotification> {
    const m = this.merchants.get(n.mchid);
    if (!m) throw new TypeError(`unknown mchid ${n.mchid}`);
    const event = {
      id: randomUUID(),
      create_time: payTime(this.clock.now()),
      resource_type: 'encrypt-resource',
      event_type: n.eventType,
      summary: n.summary,
      resource: { original_type: n.originalType, ...encryptResource(m.apiV3Key, JSON.stringify(n.plaintext), n.originalType) },
    };
    const record: PayNotification = { id: event.id, mchid: n.mchid, url: n.url, eventType: n.eventType, headers: {}, body: JSON.stringify(event), attempts: [], delivered: false };
    this.log.push(record);
    await this.attempt(record);
    return structuredClone(record);
  }

  async resend(id: string): Promise<PayNotification> {
    const record = this.log.find((r) => r.id === id);
    if (!record) throw new TypeError(`no notification ${id}`);
    await this.attempt(record);
    return structuredClone(record);
  }

  list(): PayNotification[] {
    return structuredClone(this.log);
  }

  private async attempt(record: PayNotification): Promise<void> {
    const signer = this.merchants.signer(record.mchid);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ...signedHeaders(signer.privateKey, signer.serial, record.body, unixSeconds(this.clock.now())),
      'Wechatpay-Signature-Type': AUTH_SCHEMA,
    };
    const at = this.clock.now();
    const answer = await post(record.url, headers, record.body);
    const attempt: NotificationAttempt = { at, status: answer.status, responseBody: answer.body, headers };
    record.headers = headers;
    record.attempts.push(attempt);
    if (answer.status >= 200 && answer.status < 300) record.delivered = true;
  }
}
