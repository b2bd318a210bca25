import type { Redis } from '../infra/redis';
import { DEFAULT_SHARDS, GROUP, fromFields, idMs, tenantKeys, toFields } from './webhook-keys';

export interface WebhookStatus {
  /** Queued (or parked while the tenant was at its concurrency cap) and not yet handed to a worker. */
  backlog: number;
  /** Handed to a worker, not yet acknowledged. */
  inFlight: number;
  /** Failed at least once, waiting for their next attempt. */
  retrying: number;
  dead: number;
  /** Age in seconds of the oldest queued, parked or in-flight delivery; null when none. */
  oldestPendingAgeS: number | null;
}

export interface DeadLetter {
  id: string;
  deliveryId: string;
  attempts: number;
  lastError: string;
  deadAt: string;
}

/** Entries read per XRANGE page when a shard stream is scanned for one tenant. */
const PAGE = 1000;

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Operator views of a tenant's webhook queue, for the CLI (and the admin routes). */
export class WebhookAdmin {
  constructor(
    private readonly redis: Redis,
    /** DELIVERY_SHARDS: must be the gateways' value, or the wrong shard is looked at. */
    private readonly shards: number = DEFAULT_SHARDS,
  ) {}

  /**
   * Counts one tenant's deliveries. The tenant shares its shard stream and retry schedule with the
   * other tenants of the shard, so both are scanned (in pages): the cost grows with the shard's
   * backlog, which is fine for an operator's question and never paid by the delivery path.
   */
  async status(appid: string): Promise<WebhookStatus> {
    const k = tenantKeys(appid, this.shards);
    const [[sec, usec], parkedLen, parkedHead, dead, retryMembers] = await Promise.all([
      this.redis.time(),
      this.redis.llen(k.parked),
      this.redis.lindex(k.parked, 0),
      this.redis.xlen(k.dead),
      this.redis.zrange(k.retries, 0, -1),
    ]);
    const nowMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const mine = new Set<string>();
    let oldest = Infinity;
    for (let start = '-'; ;) {
      const page = (await this.redis.xrange(k.stream, start, '+', 'COUNT', PAGE)) as [string, string[]][];
      for (const [id, fields] of page)
        if (fieldOf(fields, 'appid') === appid) {
          mine.add(id);
          oldest = Math.min(oldest, Number(fieldOf(fields, 'since') || idMs(id)));
        }
      if (page.length < PAGE) break;
      start = `(${(page.at(-1) as [string, string[]])[0]}`;
    }
    let inFlight = 0;
    if (mine.size > 0)
      try {
        const pending = (await this.redis.xpending(k.stream, GROUP, '-', '+', 100_000)) as [string, string, number, number][];
        inFlight = pending.filter(([id]) => mine.has(id)).length;
      } catch {
        // No consumer group yet: nothing has been handed out.
      }
    if (parkedHead) oldest = Math.min(oldest, Number((JSON.parse(parkedHead) as { since?: number }).since ?? Infinity));
    const retrying = retryMembers.filter((m) => {
      try {
        return (JSON.parse(m) as { appid?: string }).appid === appid;
      } catch {
        return false;
      }
    }).length;
    // Delivered entries are deleted, so the stream holds exactly the backlog plus what is in flight.
    return {
      backlog: mine.size - inFlight + parkedLen,
      inFlight,
      retrying,
      dead,
      oldestPendingAgeS: Number.isFinite(oldest) ? Math.max(0, nowMs - oldest) / 1000 : null,
    };
  }

  async dead(appid: string, limit: number): Promise<DeadLetter[]> {
    const entries = (await this.redis.xrange(tenantKeys(appid, this.shards).dead, '-', '+', 'COUNT', limit)) as [string, string[]][];
    return entries.flatMap(([id, fields]) => {
      const d = fromFields(fields);
      return d
        ? [{ id, deliveryId: d.deliveryId, attempts: d.attempts, lastError: d.extra.lastError ?? '', deadAt: d.extra.deadAt ? new Date(Number(d.extra.deadAt)).toISOString() : '' }]
        : [];
    });
  }

  /** Moves dead letters back to the delivery queue with a fresh attempt budget. */
  async redeliver(appid: string, ids: string[] | 'all'): Promise<number> {
    const k = tenantKeys(appid, this.shards);
    const entries =
      ids === 'all'
        ? ((await this.redis.xrange(k.dead, '-', '+')) as [string, string[]][])
        : (await Promise.all(ids.map((id) => this.redis.xrange(k.dead, id, id) as Promise<[string, string[]][]>))).flat();
    let moved = 0;
    for (const [id, fields] of entries) {
      const d = fromFields(fields);
      if (!d) continue;
      // Both keys are in the tenant's shard: one transaction, one Cluster slot.
      await this.redis
        .multi()
        .xadd(k.stream, '*', ...toFields({ deliveryId: d.deliveryId, appid: d.appid, message: d.message, attempts: 0, receivedAt: d.receivedAt }))
        .xdel(k.dead, id)
        .exec();
      moved++;
    }
    return moved;
  }
}
