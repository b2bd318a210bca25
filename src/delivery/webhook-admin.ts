import type { Redis } from '../infra/redis';
import { GROUP, STREAMS_SET, deadKey, fromFields, retryKey, streamKey, toFields } from './webhook-keys';

export interface WebhookStatus {
  /** Queued and not yet handed to a worker. */
  backlog: number;
  /** Handed to a worker, not yet acknowledged. */
  inFlight: number;
  /** Failed at least once, waiting for their next attempt. */
  retrying: number;
  dead: number;
  /** Age of the oldest queued or in-flight entry, in seconds (Redis server time, as the worker's gauge); null when none. */
  oldestPendingAgeS: number | null;
}

export interface DeadLetter {
  id: string;
  deliveryId: string;
  attempts: number;
  lastError: string;
  deadAt: string;
}

/** Operator views of a tenant's webhook queue, for the CLI. */
export class WebhookAdmin {
  constructor(private readonly redis: Redis) {}

  async status(appid: string): Promise<WebhookStatus> {
    const [len, retrying, dead, first, [sec, usec]] = await Promise.all([
      this.redis.xlen(streamKey(appid)),
      this.redis.zcard(retryKey(appid)),
      this.redis.xlen(deadKey(appid)),
      this.redis.xrange(streamKey(appid), '-', '+', 'COUNT', 1),
      this.redis.time(),
    ]);
    const firstId = first[0]?.[0];
    // Entry ids are the Redis server's time of XADD, so "now" is the server's too.
    const oldestPendingAgeS = firstId ? Math.max(0, Math.floor((Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - Number(firstId.split('-')[0])) / 1000)) : null;
    let inFlight = 0;
    try {
      const summary = (await this.redis.xpending(streamKey(appid), GROUP)) as [number, ...unknown[]];
      inFlight = Number(summary[0] ?? 0);
    } catch {
      // No consumer group yet: nothing has been handed out.
    }
    // Delivered entries are deleted, so the stream holds exactly the backlog plus what is in flight.
    return { backlog: Math.max(0, len - inFlight), inFlight, retrying, dead, oldestPendingAgeS };
  }

  async dead(appid: string, limit: number): Promise<DeadLetter[]> {
    const entries = (await this.redis.xrange(deadKey(appid), '-', '+', 'COUNT', limit)) as [string, string[]][];
    return entries.flatMap(([id, fields]) => {
      const d = fromFields(fields);
      return d
        ? [{ id, deliveryId: d.deliveryId, attempts: d.attempts, lastError: d.extra.lastError ?? '', deadAt: d.extra.deadAt ? new Date(Number(d.extra.deadAt)).toISOString() : '' }]
        : [];
    });
  }

  /** Moves dead letters back to the delivery queue with a fresh attempt budget. */
  async redeliver(appid: string, ids: string[] | 'all'): Promise<number> {
    const entries =
      ids === 'all'
        ? ((await this.redis.xrange(deadKey(appid), '-', '+')) as [string, string[]][])
        : (await Promise.all(ids.map((id) => this.redis.xrange(deadKey(appid), id, id) as Promise<[string, string[]][]>))).flat();
    let moved = 0;
    for (const [id, fields] of entries) {
      const d = fromFields(fields);
      if (!d) continue;
      await this.redis
        .multi()
        .xadd(streamKey(appid), '*', ...toFields({ ...d, attempts: 0 }))
        .sadd(STREAMS_SET, appid)
        .xdel(deadKey(appid), id)
        .exec();
      moved++;
    }
    return moved;
  }
}
