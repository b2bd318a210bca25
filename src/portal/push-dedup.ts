import type { Redis } from '../infra/redis';

/**
 * WeChat retries a push it got no answer to within 5 s (up to three times), possibly to another
 * instance. The first delivery claims the message with SET NX; a retry gets the same answer (the
 * stored plain reply) and is not processed again.
 */
export type DedupOutcome = { kind: 'first' } | { kind: 'duplicate'; reply: string | null };

const PENDING = 'pending';
const REPLY_PREFIX = 'reply:';

export class PushDedup {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
    private readonly waitMs: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  private key(dedupKey: string): string {
    return `wxgate:dedup:${dedupKey}`;
  }

  async claim(dedupKey: string): Promise<DedupOutcome> {
    const key = this.key(dedupKey);
    if ((await this.redis.set(key, PENDING, 'EX', this.ttlS, 'NX')) === 'OK') return { kind: 'first' };
    // The first delivery may still be working: wait a little for its answer.
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const v = await this.redis.get(key);
      if (v === null) return { kind: 'duplicate', reply: null };
      if (v.startsWith(REPLY_PREFIX)) {
        const reply = v.slice(REPLY_PREFIX.length);
        return { kind: 'duplicate', reply: reply === '' ? null : reply };
      }
      if (Date.now() > deadline) return { kind: 'duplicate', reply: null };
      await this.sleep(20);
    }
  }

  /** Records the answer given, for retries (the plain reply; empty for `success`). */
  async complete(dedupKey: string, plainReply: string | null): Promise<void> {
    await this.redis.set(this.key(dedupKey), REPLY_PREFIX + (plainReply ?? ''), 'EX', this.ttlS, 'XX');
  }

  /** Processing failed before anything was accepted: let WeChat's retry process it. */
  async release(dedupKey: string): Promise<void> {
    await this.redis.del(this.key(dedupKey));
  }
}
