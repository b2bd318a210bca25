import { redisKeys } from '../infra/redis-keys';

/** DELIVERY_SHARDS' default: what the CLI and tests use when not told otherwise. */
export const DEFAULT_SHARDS = 16;

/**
 * The shard a tenant's deliveries go to: FNV-1a of the appid, modulo the shard count. Pure and
 * stable, so every instance, the CLI and the push path agree without asking Redis.
 */
export function shardOf(appid: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < appid.length; i++) {
    h ^= appid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** Redis layout of webhook forwarding, one set of keys per shard (names from the key catalogue). */
export const GROUP = redisKeys.deliveryGroup;
export const shardStream = redisKeys.deliveryShardStream;
export const shardRetries = redisKeys.deliveryShardRetries;
export const parkedKey = redisKeys.deliveryShardParked;
export const parkedIndex = redisKeys.deliveryShardParkedIndex;
export const deadKey = redisKeys.deliveryShardDead;
export const deadIndex = redisKeys.deliveryShardDeadIndex;

/** The layout before shards, drained into the shards (see legacy-drain.ts). */
export const LEGACY_STREAMS_SET = redisKeys.deliveryStreams;
export const legacyStreamKey = redisKeys.deliveryStream;
export const legacyRetryKey = redisKeys.deliveryRetries;
export const legacyDeadKey = redisKeys.deliveryDead;

/** The keys of one tenant's deliveries: its shard's stream and retry schedule, its parked entries and dead letters. */
export function tenantKeys(appid: string, shards: number) {
  const shard = shardOf(appid, shards);
  return {
    shard,
    stream: shardStream(shard),
    retries: shardRetries(shard),
    parked: parkedKey(shard, appid),
    parkedIndex: parkedIndex(shard),
    dead: deadKey(shard, appid),
    deadIndex: deadIndex(shard),
  };
}

/** The milliseconds part of a stream entry id (Redis server time when it was added). */
export const idMs = (id: string): number => Number(id.split('-')[0]);

/** One queued delivery as stored in the stream (all values are strings in Redis). */
export interface QueuedDelivery {
  deliveryId: string;
  appid: string;
  /** JSON of the normalised message. */
  message: string;
  attempts: number;
  receivedAt: number;
}

export function toFields(d: QueuedDelivery, extra: Record<string, string> = {}): string[] {
  const out = ['deliveryId', d.deliveryId, 'appid', d.appid, 'message', d.message, 'attempts', String(d.attempts), 'receivedAt', String(d.receivedAt)];
  // An extra field of the same name replaces the value in place (an object spread would too).
  for (const key in extra) {
    const at = out.indexOf(key);
    if (at >= 0 && at % 2 === 0) out[at + 1] = extra[key] as string;
    else out.push(key, extra[key] as string);
  }
  return out;
}

export function fromFields(flat: string[]): (QueuedDelivery & { extra: Record<string, string> }) | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  if (!f.deliveryId || !f.appid || f.message === undefined) return null;
  const { deliveryId, appid, message, attempts, receivedAt, ...extra } = f;
  return { deliveryId, appid, message, attempts: Number(attempts ?? 0), receivedAt: Number(receivedAt ?? 0), extra };
}
