import { randomUUID } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { luaScript, runScript } from '../infra/lua-script';
import { redisKeys } from '../infra/redis-keys';
import type { Clock } from '../kernel/clock';
import { DEFAULT_SHARDS, shardOf, shardStream, toFields } from './webhook-keys';

/** Queues the event unless its identity was queued before; both in one script, so a retry never queues twice. */
const FORWARD_ONCE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
return 1`;
const FORWARD_ONCE_SCRIPT = luaScript(FORWARD_ONCE);

/** How long an event identity is remembered: longer than WeChat Pay retries a notification (about 24 h). */
const ONCE_TTL_S = 7 * 86_400;

/** An event for a tenant's webhook, other than a push: `kind` names it (e.g. "pay.transaction"). */
export interface TenantEvent {
  kind: string;
  [field: string]: unknown;
}

/**
 * Forwards events of features other than the portal (payments, refunds) to a tenant's webhook over
 * the same durable queue as pushes: same stream, same retries, dead letters and signatures. Each
 * event has an identity; queuing the same identity again does nothing, so the caller may retry
 * until it knows the event is queued.
 */
export class EventForwarder {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    /** DELIVERY_SHARDS. */
    private readonly shards: number = DEFAULT_SHARDS,
  ) {}

  /** Resolves 'queued' or 'duplicate'; throws when Redis is unavailable (nothing was queued then). */
  async forward(appid: string, eventId: string, event: TenantEvent): Promise<'queued' | 'duplicate'> {
    const fields = toFields({ deliveryId: randomUUID(), appid, message: JSON.stringify(event), attempts: 0, receivedAt: this.clock.now() });
    // Both keys are in the tenant's shard (one Cluster slot).
    const shard = shardOf(appid, this.shards);
    const r = await runScript(this.redis, FORWARD_ONCE_SCRIPT, [redisKeys.deliveryEventOnce(shard, appid, eventId), shardStream(shard)], [String(ONCE_TTL_S), ...fields]);
    return r === 1 ? 'queued' : 'duplicate';
  }
}
