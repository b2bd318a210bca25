import { hash } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import { DEFAULT_SHARDS } from '../delivery/webhook-keys';
import { pushSlotTag } from './push-intake';

/**
 * WeChat's plain `signature` covers token, timestamp and nonce only, and it rides on every push URL
 * (plain and encrypted) and on the URL verification: whoever sees one signed URL (an access log, a
 * proxy) could reuse it with another body or in another mode inside the timestamp window. Each
 * signed (timestamp, nonce, signature) is therefore bound, fleet-wide, to its first use: the method,
 * the mode and a digest of what came with it. The same use again is a WeChat retry; any other use is
 * a replay.
 */
export type PushUse = { method: 'GET'; echostr: string } | { method: 'POST'; encrypted: boolean; body: Buffer };

const POST_AES = Buffer.from('POST aes\n');
const POST_RAW = Buffer.from('POST raw\n');

export function useDigest(use: PushUse): string {
  // One-shot hashes (a Hash object per push cost more than copying the body once).
  if (use.method === 'GET') return hash('sha256', `GET\n${use.echostr}`, 'base64');
  return hash('sha256', Buffer.concat([use.encrypted ? POST_AES : POST_RAW, use.body]), 'base64');
}

export interface SignedTriple {
  appid: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

/** The key binding a signed query to its first use, in the slot of the tenant's other push keys (DELIVERY_SHARDS: `shards`). */
export const replayKey = (t: SignedTriple, shards: number): string => redisKeys.pushNonce(pushSlotTag(t.appid, shards), t.appid, t.timestamp, t.nonce, t.signature);

export class PushReplayGuard {
  constructor(
    private readonly redis: Redis,
    private readonly windowS: number,
    /** DELIVERY_SHARDS, which places the key (see replayKey). */
    private readonly shards: number = DEFAULT_SHARDS,
  ) {}

  /** The binding key of a signed query. */
  key(triple: SignedTriple): string {
    return replayKey(triple, this.shards);
  }

  /** Seconds a use is remembered: the window is counted both ways from the timestamp. */
  get ttlS(): number {
    return this.windowS * 2;
  }

  /** True when this signed query is new or comes with the use it first came with. */
  async accept(triple: SignedTriple, use: PushUse): Promise<boolean> {
    const digest = useDigest(use);
    const stored = await this.redis.set(this.key(triple), digest, 'EX', this.ttlS, 'NX', 'GET');
    return stored === null || stored === digest;
  }
}
