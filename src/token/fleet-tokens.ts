import { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { SecretBox } from '../tenancy/secret-box';
import { TokenStore } from './token-store';
import { TokenLock } from './token-lock';
import type { AccessTokenSource } from './access-token-source';
import type { TokenRecord } from './token-record';

/** Needs-a-fetch predicate over the fleet's current record. */
export type Want = (current: TokenRecord | null, now: number) => boolean;

/** The fleet's answer, or the news that Redis cannot be reached (the caller then works alone). */
export type FleetResult = { kind: 'record'; rec: TokenRecord } | { kind: 'unreachable'; error: Error };

export interface FleetTokensOptions {
  redis: Redis;
  /** Seals tokens at rest in Redis (SECRETS_KEY). */
  box: SecretBox;
  bus?: InvalidationBus;
  clock: Clock;
  log: Logger;
  /** Real-time sleep used while waiting for another instance's fetch. */
  sleep: (ms: number) => Promise<void>;
  /** Must exceed the longest fetch (3 attempts x WECHAT_TIMEOUT_MS + backoff). */
  lockTtlMs: number;
  /** How long a caller waits for another instance's fetch before giving up; longer than lockTtlMs. */
  waitTimeoutMs?: number;
  pollMs?: number;
}

/**
 * The fleet side of the token cache: L2 in Redis (the truth), one redlock lock per token key, and
 * polling. An instance that loses the lock race never fetches: it polls L2 until the holder's token
 * appears. The write that ends a fetch is fenced on the lock value, and announced on the bus so every
 * instance drops its L1 copy.
 */
export class FleetTokens {
  private readonly store: TokenStore;
  private readonly lock: TokenLock;

  constructor(private readonly o: FleetTokensOptions) {
    this.store = new TokenStore(o.redis, o.clock, o.box);
    this.lock = new TokenLock(o.redis, o.lockTtlMs);
  }

  /** The fleet's record; throws when Redis cannot be read. */
  read(key: string): Promise<TokenRecord | null> {
    return this.store.get(key);
  }

  /**
   * Returns the fleet's record when `want` says it will do; otherwise fetches with `fetch` while
   * holding the key's lock (dropping `failedToken` first), or waits for the holder's result.
   */
  async fetchUnderLock(source: AccessTokenSource, want: Want, fetch: () => Promise<TokenRecord>, failedToken?: string): Promise<FleetResult> {
    const { key } = source;
    const deadline = Date.now() + (this.o.waitTimeoutMs ?? this.o.lockTtlMs + 2000);
    for (;;) {
      const attempt = await this.lock.tryAcquire(key);
      // Fetch alone only when Redis is really unreachable; a lock that merely failed (OOM,
      // READONLY) must not turn every instance into its own token fetcher.
      if (attempt.kind === 'unavailable' && this.o.redis.status !== 'ready') return { kind: 'unreachable', error: attempt.error };
      if (attempt.kind === 'acquired') {
        try {
          const settled = await this.settled(key, want);
          if (settled) return settled;
          if (failedToken) await this.store.deleteIfToken(key, failedToken).catch(() => undefined);
          const rec = await fetch();
          const written = await this.store.setUnderLock(key, rec, attempt).catch(() => false);
          // Every instance drops its L1 copy and re-reads L2 on its next call.
          if (written) void this.o.bus?.publish({ kind: 'token', appid: source.owner, ref: key });
          else this.o.log.warn({ appid: source.owner }, 'token fetched but not shared: the lock expired or Redis refused the write');
          // The token is good whatever happened to the write; callers get it either way.
          return { kind: 'record', rec };
        } finally {
          await this.lock.release(attempt.lock);
        }
      }
      // Someone else holds the lock: wait for their result rather than fetching ourselves.
      await this.o.sleep(this.o.pollMs ?? 25);
      const settled = await this.settled(key, want);
      if (settled) return settled;
      if (Date.now() > deadline) {
        throw new AppError(503, 'TOKEN_UNAVAILABLE', `timed out waiting for ${source.owner}'s access token`);
      }
    }
  }

  /**
   * Opens the fleet-wide window of a reported refusal: true for the one caller that may cause a
   * fetch, false while another report's window is open. Throws when Redis cannot be asked.
   */
  async claimReportWindow(key: string, windowMs: number): Promise<boolean> {
    return (await this.o.redis.set(redisKeys.tokenReportWindow(key), 'fetching', 'PX', windowMs, 'NX')) === 'OK';
  }

  /**
   * The claimer is done: after a fetch (whatever its outcome) the window stays open and its callers
   * read the fleet's token; without one, the window is closed again.
   */
  async reportSettled(key: string, fetched: boolean): Promise<void> {
    if (fetched) await this.o.redis.set(redisKeys.tokenReportWindow(key), 'done', 'KEEPTTL', 'XX');
    else await this.o.redis.del(redisKeys.tokenReportWindow(key));
  }

  /** The fleet's record once the window's fetch is over (waiting for it at most as long as a fetch may take). */
  async afterReportedFetch(key: string): Promise<TokenRecord | null> {
    const deadline = Date.now() + (this.o.waitTimeoutMs ?? this.o.lockTtlMs + 2000);
    while ((await this.o.redis.get(redisKeys.tokenReportWindow(key))) === 'fetching' && Date.now() < deadline) await this.o.sleep(this.o.pollMs ?? 25);
    return this.store.get(key);
  }

  /** The fleet's record when it will do, or the news that Redis is unreachable; null when a fetch is still wanted. */
  private async settled(key: string, want: Want): Promise<FleetResult | null> {
    let cur: TokenRecord | null;
    try {
      cur = await this.store.get(key);
    } catch (err) {
      return { kind: 'unreachable', error: err as Error };
    }
    return cur && !want(cur, this.o.clock.now()) ? { kind: 'record', rec: cur } : null;
  }
}
