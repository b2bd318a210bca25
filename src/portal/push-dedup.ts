import type { Redis } from '../infra/redis';

/**
 * WeChat retries a push it got no answer to within 5 s (up to three times), possibly to another
 * instance. The first delivery claims the message with SET NX; a retry gets the same answer (the
 * stored plain reply) and is not processed again.
 *
 * The claim is a short lease: if the instance that took it dies before answering, the lease runs
 * out and a later retry processes the message. A retry that finds the claim still in progress is
 * told to come back (the caller answers 503), never "success": success would end WeChat's retries
 * for a message nobody has accepted yet.
 */
export type DedupOutcome = { kind: 'first' } | { kind: 'duplicate'; reply: string | null } | { kind: 'in-progress' };

const PENDING = 'pending';
const REPLY_PREFIX = 'reply:';

export class PushDedup {
  constructor(
    private readonly redis: Redis,
    /** How long an answered push is remembered (at least the accepted timestamp window). */
    private readonly ttlS: number,
    /** How long a claim lasts without an answer. */
    private readonly leaseS: number,
    private readonly waitMs: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  private key(dedupKey: string): string {
    return `wxgate:dedup:${dedupKey}`;
  }

  async claim(dedupKey: string): Promise<DedupOutcome> {
    const key = this.key(dedupKey);
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      if ((await this.redis.set(key, PENDING, 'EX', this.leaseS, 'NX')) === 'OK') return { kind: 'first' };
      const v = await this.redis.get(key);
      // Released or expired between our two commands: try to claim it again.
      if (v === null) continue;
      if (v.startsWith(REPLY_PREFIX)) {
        const reply = v.slice(REPLY_PREFIX.length);
        return { kind: 'duplicate', reply: reply === '' ? null : reply };
      }
      if (Date.now() > deadline) return { kind: 'in-progress' };
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
