import Redlock, { ExecutionError, ResourceLockedError, type Lock } from 'redlock';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';

type RedlockClients = ConstructorParameters<typeof Redlock>[0];

export type LockAttempt = { kind: 'acquired'; lock: Lock; key: string; value: string } | { kind: 'busy' } | { kind: 'unavailable'; error: Error };

/**
 * One redlock lock per token key across the fleet. Its TTL must outlast a whole fetch (all retries
 * included); the write that ends a fetch is fenced on the lock value anyway. A single attempt, no internal retries: a
 * caller that finds the lock held waits for the holder's result instead of queueing to fetch.
 */
export class TokenLock {
  private readonly redlock: Redlock;

  constructor(
    redis: Redis,
    private readonly ttlMs: number,
  ) {
    // redlock accepts a Cluster client too, but its typings (ESM build) only resolve ioredis' Redis class.
    this.redlock = new Redlock([redis] as unknown as RedlockClients, { retryCount: 0, driftFactor: 0.01 });
    // Client errors are reported through acquire's result; without a listener they would crash.
    this.redlock.on('error', () => undefined);
  }

  async tryAcquire(resource: string): Promise<LockAttempt> {
    const key = redisKeys.tokenLock(resource);
    try {
      const lock = await this.redlock.acquire([key], this.ttlMs);
      return { kind: 'acquired', lock, key, value: lock.value };
    } catch (err) {
      if (err instanceof ExecutionError) {
        const stats = await Promise.all(err.attempts).catch(() => []);
        const reasons = stats.flatMap((s) => [...s.votesAgainst.values()]);
        if (reasons.length > 0 && reasons.every((e) => e instanceof ResourceLockedError)) return { kind: 'busy' };
        return { kind: 'unavailable', error: reasons.find((e) => !(e instanceof ResourceLockedError)) ?? err };
      }
      return { kind: 'unavailable', error: err as Error };
    }
  }

  async release(lock: Lock): Promise<void> {
    // An expired or lost lock is harmless here: the holder only ever wrote a newer token.
    await lock.release().catch(() => undefined);
  }
}
