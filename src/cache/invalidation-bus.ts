import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import type { Logger } from '../kernel/log';

/**
 * Fleet-wide "drop your copy" messages over Redis pub/sub. Subscribing needs a dedicated connection;
 * publishing uses the shared one. If Redis is down, messages are lost and in-process TTLs bound
 * how stale a copy can get.
 */
export const INVALIDATION_CHANNEL = redisKeys.invalidationChannel;

export interface InvalidationMessage {
  /** What to drop: a tenant, a token, a cool-down, a service key that was revoked, a merchant (its mchid in `appid`) or a platform (its component appid in `appid`). */
  kind: 'tenant' | 'token' | 'cooldown' | 'service-key' | 'merchant' | 'platform';
  appid: string;
  /** Which token key, which API for a cooldown, or which keyId. */
  ref?: string;
  /** For a cooldown: until when (ms since epoch). */
  until?: number;
  errcode?: number;
  /** For kind "tenant": many tenants at once (a bulk apply), `appid` then empty. One message per chunk instead of one per tenant. */
  appids?: string[];
}

type Handler = (m: InvalidationMessage) => void;

export class InvalidationBus {
  private readonly handlers = new Map<InvalidationMessage['kind'], Handler[]>();
  private started = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly log: Logger,
  ) {}

  on(kind: InvalidationMessage['kind'], handler: Handler): void {
    this.handlers.set(kind, [...(this.handlers.get(kind) ?? []), handler]);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== INVALIDATION_CHANNEL) return;
      let m: InvalidationMessage;
      try {
        m = JSON.parse(raw) as InvalidationMessage;
      } catch {
        return;
      }
      for (const h of this.handlers.get(m.kind) ?? []) h(m);
    });
    // ioredis re-subscribes by itself after a reconnect.
    await this.subscriber.subscribe(INVALIDATION_CHANNEL);
  }

  async publish(m: InvalidationMessage): Promise<void> {
    try {
      await this.publisher.publish(INVALIDATION_CHANNEL, JSON.stringify(m));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, kind: m.kind, appid: m.appid }, 'invalidation not broadcast');
    }
  }
}

/** Publishes without a subscriber, for the CLI. */
export async function publishInvalidation(redis: Redis, m: InvalidationMessage): Promise<void> {
  await redis.publish(INVALIDATION_CHANNEL, JSON.stringify(m));
}
