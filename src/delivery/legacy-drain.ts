import type { Redis } from '../infra/redis';
import type { Logger } from '../kernel/log';
import { GROUP, LEGACY_STREAMS_SET, fromFields, idMs, legacyDeadKey, legacyRetryKey, legacyStreamKey, tenantKeys, toFields } from './webhook-keys';
import { DEAD_LETTER } from './webhook-scripts';

export interface LegacyDrainOptions {
  redis: Redis;
  shards: number;
  /** The consumer name the entries are taken under, in the old per-tenant consumer groups. */
  consumer: string;
  /** An entry handed to an old worker is taken over only after this long idle (the old worker may still be delivering it). */
  reclaimIdleMs: number;
  log: Logger;
}

const BATCH = 100;
/** Tenants drained at once. */
const PARALLEL = 32;
const DEAD_MAX_LEN = 10_000;

type StreamEntries = [string, string[]][];
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Moves what a version before delivery shards queued (one stream, retry schedule and dead-letter
 * stream per tenant, listed in a set) into the tenants' shards, so a push accepted by the old
 * version is still delivered. Runs at each worker's start and every minute after (during a rolling
 * upgrade old instances still queue the old way). An entry is taken through the old consumer group,
 * so two instances draining at once do not both move it; an entry an old worker holds is left to
 * it until it is idle as long as a dead worker's would be. Each move appends to the shard first and
 * removes from the old key after, so a crash in between delivers twice, never zero times (the keys
 * are in different Cluster slots: no single script can do both). Answers how many entries moved,
 * and how many tenants are left in the old layout (entries still in an old worker's hands).
 */
export async function drainLegacyQueues(o: LegacyDrainOptions): Promise<{ moved: number; tenantsLeft: number }> {
  const appids = await o.redis.smembers(LEGACY_STREAMS_SET);
  let moved = 0;
  for (let i = 0; i < appids.length; i += PARALLEL) {
    const counts = await Promise.all(
      appids.slice(i, i + PARALLEL).map((appid) =>
        drainTenant(o, appid).catch((err: unknown) => {
          o.log.warn({ appid, err: errorText(err) }, 'moving per-tenant webhook deliveries into the shards failed; tried again in a minute');
          return 0;
        }),
      ),
    );
    moved += counts.reduce((a, n) => a + n, 0);
  }
  return { moved, tenantsLeft: appids.length === 0 ? 0 : await o.redis.scard(LEGACY_STREAMS_SET) };
}

async function drainTenant(o: LegacyDrainOptions, appid: string): Promise<number> {
  const { redis } = o;
  const k = tenantKeys(appid, o.shards);
  const old = legacyStreamKey(appid);
  let moved = 0;

  /** Appends to the shard stream, then acknowledges and deletes the old entry. */
  const move = async (id: string, fields: string[], handedOutBefore: number) => {
    const d = fromFields(fields);
    // A malformed entry is moved as it is: the worker dead-letters it for an operator.
    const out = d ? toFields({ ...d, attempts: d.attempts + handedOutBefore }, d.extra) : fields;
    if (out.length > 0) await redis.xadd(k.stream, '*', ...out);
    await redis.multi().xack(old, GROUP, id).xdel(old, id).exec();
    moved++;
  };

  const streamExists = (await redis.exists(old)) === 1;
  if (streamExists) {
    try {
      await redis.xgroup('CREATE', old, GROUP, '0');
    } catch (err) {
      if (!errorText(err).startsWith('BUSYGROUP')) throw err;
    }
    // Entries a worker took and never acknowledged (it died, or is an old worker slower than any
    // delivery): it may have sent them, so they carry the next attempt number.
    let cursor = '0-0';
    do {
      const [next, entries] = (await redis.xautoclaim(old, GROUP, o.consumer, o.reclaimIdleMs, cursor, 'COUNT', BATCH)) as [string, [string, string[] | null][]];
      for (const [id, fields] of entries) {
        if (fields) await move(id, fields, 1);
        else await redis.xack(old, GROUP, id);
      }
      cursor = next;
    } while (cursor !== '0-0');
    // Entries no worker took yet.
    for (;;) {
      const res = (await redis.xreadgroup('GROUP', GROUP, o.consumer, 'COUNT', BATCH, 'STREAMS', old, '>')) as [string, StreamEntries][] | null;
      const entries = res?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) await move(id, fields, 0);
      if (entries.length < BATCH) break;
    }
  }

  // Scheduled retries keep their due time. Moving the same member twice is harmless (a sorted set);
  // if an old worker promoted it meanwhile, it is queued there: the copy here is withdrawn.
  for (;;) {
    const batch = await redis.zrange(legacyRetryKey(appid), 0, BATCH - 1, 'WITHSCORES');
    if (batch.length === 0) break;
    for (let i = 0; i + 1 < batch.length; i += 2) {
      const member = batch[i] as string;
      await redis.zadd(k.retries, batch[i + 1] as string, member);
      if ((await redis.zrem(legacyRetryKey(appid), member)) === 0) await redis.zrem(k.retries, member);
      moved++;
    }
  }

  // Dead letters keep their time of death (their id).
  for (;;) {
    const batch = (await redis.xrange(legacyDeadKey(appid), '-', '+', 'COUNT', BATCH)) as StreamEntries;
    if (batch.length === 0) break;
    for (const [id, fields] of batch) {
      await redis.eval(DEAD_LETTER, 2, k.dead, k.deadIndex, String(idMs(id)), String(DEAD_MAX_LEN), appid, ...fields);
      await redis.xdel(legacyDeadKey(appid), id);
    }
  }

  // Done with this tenant once nothing is left in the old layout, not even in an old worker's hands.
  const [len, pending] = streamExists ? await Promise.all([redis.xlen(old), redis.xpending(old, GROUP) as Promise<[number, ...unknown[]]>]) : [0, [0]];
  if (len === 0 && Number(pending[0] ?? 0) === 0 && (await redis.xlen(legacyDeadKey(appid))) === 0) {
    // (An emptied stream stays as a key until deleted.)
    await redis.del(old, legacyDeadKey(appid));
    await redis.srem(LEGACY_STREAMS_SET, appid);
  }
  return moved;
}
