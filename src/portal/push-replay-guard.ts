import { createHash } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';

/**
 * In plain mode the signature covers token, timestamp and nonce, not the body: whoever sees one
 * signed URL (an access log, a proxy) could post any body with it inside the timestamp window.
 * Each signed (timestamp, nonce, signature) is therefore bound to the first body it came with; the
 * same body again is a WeChat retry, another body is a replay.
 */
export class PushReplayGuard {
  constructor(
    private readonly redis: Redis,
    private readonly windowS: number,
  ) {}

  /** True when this signed query is new or comes with the body it first came with. */
  async accept(appid: string, timestamp: string, nonce: string, signature: string, body: Buffer): Promise<boolean> {
    const key = redisKeys.pushNonce(appid, timestamp, nonce, signature);
    const digest = createHash('sha256').update(body).digest('base64');
    // The window is counted both ways from the timestamp, so remember it for twice the window.
    const stored = await this.redis.set(key, digest, 'EX', this.windowS * 2, 'NX', 'GET');
    return stored === null || stored === digest;
  }
}
