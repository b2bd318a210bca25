/**
 * Payment and refund notifications: the encrypted event body, signed afresh for every attempt, POSTed to the
 * merchant's notify_url; every notification and attempt is recorded. Retries are explicit (resend), as a
 * merchant's answer other than 2xx would make WeChat Pay try again later.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../kernel/clock';
import { postText } from '../outbound';
import { unixSeconds } from '../time';
import type { MerchantRegistry } from './merchants';
import { AUTH_SCHEMA, encryptResource, signedHeaders } from './pay-crypto';
import { payTime } from './pay-errors';
import type { NotificationAttempt, PayEventType, PayNotification } from './types';

export interface NotificationInput {
  mchid: string;
  url: string;
  eventType: PayEventType;
  summary: string;
  originalType: 'transaction' | 'refund';
  plaintext: Record<string, unknown>;
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
    const answer = await postText(record.url, headers, record.body);
    const attempt: NotificationAttempt = { at, status: answer.status, responseBody: answer.body, headers };
    record.headers = headers;
    record.attempts.push(attempt);
    if (answer.status >= 200 && answer.status < 300) record.delivered = true;
  }
}
