import { randomUUID } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import { STREAMS_SET, streamKey, toFields } from '../delivery/webhook-keys';

/**
 * Accepts a push exactly once across the fleet, in one atomic Redis script:
 * - the dedup record (keyed by MsgId/FromUserName/CreateTime, or the event's triple) is created with
 *   the answer WeChat gets, and
 * - when the tenant has a webhook, the message is appended to its delivery stream.
 * Either both happen or neither, so an answered push is always queued, and a WeChat retry (which
 * may reach another instance) finds the same answer and queues nothing. The answer is computed
 * before the script runs (rules and replies are pure), so there is no "in progress" state for a
 * retry to wait on.
 */
const ACCEPT = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return {0, redis.call('GET', KEYS[1])}
end
if ARGV[3] == '1' then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 5))
  redis.call('SADD', KEYS[3], ARGV[4])
end
return {1, ''}`;

const REPLY_PREFIX = 'reply:';

export type IntakeOutcome = { kind: 'accepted'; deliveryId?: string } | { kind: 'duplicate'; reply: string | null };

export class PushIntake {
  constructor(
    private readonly redis: Redis,
    /** How long an answered push is remembered (at least as long as a push is accepted). */
    private readonly ttlS: number,
  ) {}

  /**
   * `plainReply` is the answer for this push (null: "success"); `forward` queues it for the
   * tenant's webhook.
   */
  async accept(dedupKey: string, plainReply: string | null, forward?: { appid: string; message: unknown; receivedAt: number }): Promise<IntakeOutcome> {
    const deliveryId = forward ? randomUUID() : undefined;
    const fields = forward && deliveryId ? toFields({ deliveryId, appid: forward.appid, message: JSON.stringify(forward.message), attempts: 0, receivedAt: forward.receivedAt }) : [];
    // Without a webhook the script touches the dedup key alone, so only that key is declared.
    const keys = forward ? [redisKeys.pushDedup(dedupKey), streamKey(forward.appid), STREAMS_SET] : [redisKeys.pushDedup(dedupKey)];
    const [won, existing] = (await this.redis.eval(
      ACCEPT,
      keys.length,
      ...keys,
      REPLY_PREFIX + (plainReply ?? ''),
      String(this.ttlS),
      forward ? '1' : '0',
      forward?.appid ?? '',
      ...fields,
    )) as [number, string | null];
    if (won === 1) return { kind: 'accepted', ...(deliveryId ? { deliveryId } : {}) };
    const reply = existing?.startsWith(REPLY_PREFIX) ? existing.slice(REPLY_PREFIX.length) : '';
    return { kind: 'duplicate', reply: reply === '' ? null : reply };
  }
}
