import { randomUUID } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { STREAMS_SET, streamKey, toFields } from './webhook-keys';

/**
 * Appends an accepted push to the tenant's durable delivery stream. The portal awaits this before
 * answering WeChat: if it fails, WeChat is told to retry, so no accepted message is ever lost.
 */
export class WebhookOutbox {
  constructor(private readonly redis: Redis) {}

  async append(appid: string, message: unknown, receivedAt: number): Promise<string> {
    const deliveryId = randomUUID();
    const res = await this.redis
      .multi()
      .xadd(streamKey(appid), '*', ...toFields({ deliveryId, appid, message: JSON.stringify(message), attempts: 0, receivedAt }))
      .sadd(STREAMS_SET, appid)
      .exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('webhook outbox write failed');
    return deliveryId;
  }
}
