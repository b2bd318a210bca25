import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import type { Logger } from '../kernel/log';
import type { SecretBox } from '../tenancy/secret-box';
import type { PlatformStore } from './platform-store';

/** WeChat pushes a ticket every 10 minutes and honours it for 12 hours; a copy in Redis lives as long. */
const TICKET_TTL_S = 12 * 3600;

export interface Ticket {
  ticket: string;
  at: Date;
}

/**
 * The latest component_verify_ticket of each platform. Written to MongoDB first (durable, sealed)
 * and then to Redis (sealed, for the fleet's fast path); read from Redis and, when Redis lost it
 * (restart, flush, outage), from MongoDB, which puts it back. A ticket is never the only copy in a
 * cache that can vanish, and two platforms never share a key.
 */
export class TicketStore {
  constructor(
    private readonly store: PlatformStore,
    private readonly redis: Redis,
    private readonly box: SecretBox,
    private readonly log: Logger,
  ) {}

  /** False when a newer ticket is already stored (a late or replayed event): then neither copy changes. */
  async save(componentAppid: string, ticket: string, at: Date): Promise<boolean> {
    // An older ticket MongoDB refused must not reach Redis either, even when Redis lost the newer one.
    if (!(await this.store.saveTicket(componentAppid, ticket, at))) return false;
    await this.cache({ ticket, at }, componentAppid).catch((err: unknown) => this.log.warn({ componentAppid, err: (err as Error).message }, 'ticket not copied to Redis (MongoDB has it)'));
    return true;
  }

  async get(componentAppid: string): Promise<Ticket | null> {
    try {
      const raw = await this.redis.get(redisKeys.platformTicket(componentAppid));
      if (raw) {
        const v = JSON.parse(this.box.open(raw.slice(raw.indexOf('|') + 1), context(componentAppid))) as { ticket: string; at: number };
        return { ticket: v.ticket, at: new Date(v.at) };
      }
    } catch (err) {
      this.log.warn({ componentAppid, err: (err as Error).message }, 'ticket not read from Redis; reading MongoDB');
    }
    const durable = await this.store.readTicket(componentAppid);
    if (durable) await this.cache(durable, componentAppid).catch(() => undefined);
    return durable;
  }

  private async cache(t: Ticket, componentAppid: string): Promise<void> {
    // Only a newer ticket replaces the cached one (instances may receive events out of order).
    const sealed = this.box.seal(JSON.stringify({ ticket: t.ticket, at: t.at.getTime() }), context(componentAppid));
    await this.redis.eval(NEWER_ONLY, 1, redisKeys.platformTicket(componentAppid), sealed, String(t.at.getTime()), String(TICKET_TTL_S));
  }
}

/** The cached value is "<ms>|<sealed>": its time in clear, so the script compares without decrypting. */
const NEWER_ONLY = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local at = tonumber(string.match(cur, '^(%d+)|'))
  if at and at > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[1], 'EX', ARGV[3])
return 1`;

const context = (componentAppid: string) => `platform:${componentAppid}:ticket-cache`;
