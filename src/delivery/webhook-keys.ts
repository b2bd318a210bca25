import { redisKeys } from '../infra/redis-keys';

/** Redis layout of webhook forwarding, one set of keys per tenant (names from the key catalogue). */
export const STREAMS_SET = redisKeys.deliveryStreams;
export const GROUP = redisKeys.deliveryGroup;
export const streamKey = redisKeys.deliveryStream;
export const appidOfStream = (key: string) => key.slice(streamKey('').length);
export const retryKey = redisKeys.deliveryRetries;
export const deadKey = redisKeys.deliveryDead;

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
  const f: Record<string, string> = {
    deliveryId: d.deliveryId,
    appid: d.appid,
    message: d.message,
    attempts: String(d.attempts),
    receivedAt: String(d.receivedAt),
    ...extra,
  };
  return Object.entries(f).flat();
}

export function fromFields(flat: string[]): (QueuedDelivery & { extra: Record<string, string> }) | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  if (!f.deliveryId || !f.appid || f.message === undefined) return null;
  const { deliveryId, appid, message, attempts, receivedAt, ...extra } = f;
  return { deliveryId, appid, message, attempts: Number(attempts ?? 0), receivedAt: Number(receivedAt ?? 0), extra };
}
