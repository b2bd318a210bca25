import NodeCache from 'node-cache';
import { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { SingleFlight } from '../cache/single-flight';
import type { Tenant } from '../tenancy/tenant';
import { TokenStore } from './token-store';
import { TokenLock } from './token-lock';
import type { TokenFetcher } from './token-fetcher';
import { isFresh, isUsable, makeRecord, tokenKey, type TokenRecord } from './token-record';

export interface TokenManagerOptions {
  redis: Redis;
  bus?: InvalidationBus;
  clock: Clock;
  log: Logger;
  fetcher: TokenFetcher;
  /** Real-time sleep used while waiting for another instance's fetch. */
  sleep: (ms: number) => Promise<void>;
  onUpstreamFetch?: (appid: string, outcome: 'ok' | 'error') => void;
  /** Must exceed the longest fetch (3 attempts x WECHAT_TIMEOUT_MS + backoff). */
  lockTtlMs?: number;
  /** How long a caller waits for another instance's fetch before giving up; longer than lockTtlMs. */
  waitTimeoutMs?: number;
  pollMs?: number;
}

/** Needs-a-fetch predicate over the fleet's current record. */
type Want = (current: TokenRecord | null, now: number) => boolean;

/** Tokens fetched while Redis was unreachable are kept briefly, so the instance rejoins the fleet soon. */
const LOCAL_ONLY_TTL_S = 30;
const FAILURE_BACKOFF_MAX_MS = 60_000;
const ERROR_MEMORY_MS = 30_000;
/** A failed fetch (WeChat down, -1 after retries) is not repeated by every caller that follows. */
const TRANSIENT_ERROR_MEMORY_MS = 2_000;

/**
 * Access tokens for every tenant, shared by the fleet:
 * - L1 node-cache in process, L2 Redis (the truth), one in-flight load per key in process and a
 *   redlock lock per key across processes. An instance that loses the lock race never fetches: it
 *   polls L2 until the holder's token appears.
 * - Renewal starts at refreshAt while callers keep getting the still-valid token, so requests wait
 *   for WeChat only on a cold start.
 * - Redis down: the instance fetches on its own (in-process single-flight still holds) and keeps
 *   serving; it rejoins L2 when Redis returns.
 */
export class TokenManager {
  private readonly l1 = new NodeCache({ useClones: false, checkperiod: 60 });
  private readonly flight = new SingleFlight<TokenRecord>();
  private readonly background = new SingleFlight<void>();
  private readonly failures = new Map<string, { nextAttemptAt: number; delayMs: number }>();
  /** Errors worth remembering (misconfiguration, quota) so a burst of callers does not repeat them. */
  private readonly rememberedErrors = new Map<string, { until: number; error: AppError }>();
  /** Last good record per key, for when Redis is unreachable. */
  private readonly fallback = new Map<string, TokenRecord>();
  private readonly store: TokenStore;
  private readonly lock: TokenLock;
  private redisDown = false;
  private readonly lockTtlMs: number;

  constructor(private readonly o: TokenManagerOptions) {
    this.lockTtlMs = o.lockTtlMs ?? 20_000;
    this.store = new TokenStore(o.redis, o.clock);
    this.lock = new TokenLock(o.redis, this.lockTtlMs);
    o.bus?.on('token', (m) => {
      if (m.ref) this.l1.del(m.ref);
    });
  }

  async getToken(tenant: Tenant): Promise<TokenRecord> {
    const key = tokenKey(tenant.appid, tenant.secret, tenant.tokenMode);
    const now = this.o.clock.now();
    const hit = this.l1.get<TokenRecord>(key);
    if (hit && isUsable(hit, now)) {
      if (!isFresh(hit, now)) this.refreshInBackground(tenant, key);
      return hit;
    }
    return this.flight.run(key, () => this.obtain(tenant, key));
  }

  /**
   * Compare-and-invalidate after WeChat rejected `failedToken` (40001/40014/42001): the fleet's
   * token is replaced only if it is still the one that failed, under the lock, so N callers that
   * saw the same failure cause one fetch. Returns the token to retry with.
   */
  async invalidate(tenant: Tenant, failedToken: string): Promise<TokenRecord> {
    const key = tokenKey(tenant.appid, tenant.secret, tenant.tokenMode);
    const local = this.l1.get<TokenRecord>(key);
    if (local?.accessToken === failedToken) this.l1.del(key);
    if (this.fallback.get(key)?.accessToken === failedToken) this.fallback.delete(key);
    const want: Want = (cur, now) => !cur || cur.accessToken === failedToken || !isUsable(cur, now);
    return this.flight.run(`${key}#${failedToken}`, () => this.fetchUnderLock(tenant, key, want, failedToken));
  }

  /** Renews every token this instance holds that is due; the production timer calls it. */
  refreshDue(tenants: Iterable<Tenant>): void {
    const now = this.o.clock.now();
    for (const t of tenants) {
      const key = tokenKey(t.appid, t.secret, t.tokenMode);
      const rec = this.l1.get<TokenRecord>(key);
      if (rec && !isFresh(rec, now)) this.refreshInBackground(t, key);
    }
  }

  close(): void {
    this.l1.close();
  }

  private async obtain(tenant: Tenant, key: string): Promise<TokenRecord> {
    let cur: TokenRecord | null;
    try {
      cur = await this.store.get(key);
      this.redisUp();
    } catch (err) {
      return this.withoutRedis(tenant, key, err as Error);
    }
    const now = this.o.clock.now();
    if (cur && isUsable(cur, now)) {
      this.remember(key, cur);
      if (!isFresh(cur, now)) this.refreshInBackground(tenant, key);
      return cur;
    }
    return this.fetchUnderLock(tenant, key, (c, n) => !c || !isUsable(c, n));
  }

  private async fetchUnderLock(tenant: Tenant, key: string, want: Want, failedToken?: string): Promise<TokenRecord> {
    const deadline = Date.now() + (this.o.waitTimeoutMs ?? this.lockTtlMs + 2000);
    for (;;) {
      const attempt = await this.lock.tryAcquire(key);
      // Fetch alone only when Redis is really unreachable; a lock that merely failed (OOM,
      // READONLY) must not turn every instance into its own token fetcher.
      if (attempt.kind === 'unavailable' && this.o.redis.status !== 'ready') return this.withoutRedis(tenant, key, attempt.error);
      if (attempt.kind === 'acquired') {
        try {
          let cur: TokenRecord | null;
          try {
            cur = await this.store.get(key);
          } catch (err) {
            return await this.withoutRedis(tenant, key, err as Error);
          }
          if (cur && !want(cur, this.o.clock.now())) {
            this.remember(key, cur);
            return cur;
          }
          if (failedToken) await this.store.deleteIfToken(key, failedToken).catch(() => undefined);
          const rec = await this.fetchUpstream(tenant, key);
          // The token is good whatever happens to the write; callers get it either way.
          this.remember(key, rec);
          const written = await this.store.setUnderLock(key, rec, attempt).catch(() => false);
          // Every instance drops its L1 copy and re-reads L2 on its next call.
          if (written) void this.o.bus?.publish({ kind: 'token', appid: tenant.appid, ref: key });
          else this.o.log.warn({ appid: tenant.appid }, 'token fetched but not shared: the lock expired or Redis refused the write');
          return rec;
        } finally {
          await this.lock.release(attempt.lock);
        }
      }
      // Someone else holds the lock: wait for their result rather than fetching ourselves.
      await this.o.sleep(this.o.pollMs ?? 25);
      let cur: TokenRecord | null;
      try {
        cur = await this.store.get(key);
      } catch (err) {
        return this.withoutRedis(tenant, key, err as Error);
      }
      if (cur && !want(cur, this.o.clock.now())) {
        this.remember(key, cur);
        return cur;
      }
      if (Date.now() > deadline) {
        throw new AppError(503, 'TOKEN_UNAVAILABLE', `timed out waiting for ${tenant.appid}'s access token`);
      }
    }
  }

  private async fetchUpstream(tenant: Tenant, key: string): Promise<TokenRecord> {
    this.throwRemembered(key);
    try {
      const f = await this.o.fetcher.fetch(tenant);
      this.o.onUpstreamFetch?.(tenant.appid, 'ok');
      this.o.log.info({ appid: tenant.appid, mode: tenant.tokenMode, expiresIn: f.expiresIn }, 'access token fetched');
      return makeRecord(f.accessToken, f.expiresIn, this.o.clock.now());
    } catch (err) {
      this.o.onUpstreamFetch?.(tenant.appid, 'error');
      if (err instanceof AppError) {
        const lasting = err.code === 'TENANT_MISCONFIGURED' || err.status === 429;
        const ms = lasting ? Number(err.headers['Retry-After'] ?? ERROR_MEMORY_MS / 1000) * 1000 : TRANSIENT_ERROR_MEMORY_MS;
        this.rememberedErrors.set(key, { until: this.o.clock.now() + ms, error: err });
      }
      throw err;
    }
  }

  private refreshInBackground(tenant: Tenant, key: string): void {
    const now = this.o.clock.now();
    const f = this.failures.get(key);
    if (f && now < f.nextAttemptAt) return;
    void this.background.run(key, async () => {
      try {
        await this.fetchUnderLock(tenant, key, (c, n) => !c || !isFresh(c, n));
        this.failures.delete(key);
      } catch (err) {
        // The current token is still valid: keep serving it, try again later with backoff.
        const delayMs = Math.min(FAILURE_BACKOFF_MAX_MS, (f?.delayMs ?? 500) * 2);
        this.failures.set(key, { nextAttemptAt: this.o.clock.now() + delayMs, delayMs });
        this.o.log.warn({ appid: tenant.appid, err: (err as Error).message, retryInMs: delayMs }, 'token refresh failed; serving the current token');
      }
    });
  }

  /** Redis is unreachable: serve what this instance has, or fetch alone. */
  private async withoutRedis(tenant: Tenant, key: string, err: Error): Promise<TokenRecord> {
    if (!this.redisDown) {
      this.redisDown = true;
      this.o.log.error({ err: err.message }, 'redis unreachable: tokens are served from this instance alone');
    }
    const now = this.o.clock.now();
    const fb = this.fallback.get(key);
    if (fb && isUsable(fb, now)) {
      this.l1.set(key, fb, LOCAL_ONLY_TTL_S);
      return fb;
    }
    const rec = await this.fetchUpstream(tenant, key);
    this.fallback.set(key, rec);
    this.l1.set(key, rec, LOCAL_ONLY_TTL_S);
    return rec;
  }

  private redisUp(): void {
    if (this.redisDown) {
      this.redisDown = false;
      this.o.log.warn('redis reachable again: tokens are shared with the fleet');
    }
  }

  private remember(key: string, rec: TokenRecord): void {
    // A slow reader must not put back an older record over a newer one.
    const held = this.l1.get<TokenRecord>(key);
    if (held && held.accessToken !== rec.accessToken && held.issuedAt > rec.issuedAt) return;
    const ttl = Math.max(1, Math.ceil((rec.expiresAt - this.o.clock.now()) / 1000));
    this.l1.set(key, rec, ttl);
    this.fallback.set(key, rec);
    this.rememberedErrors.delete(key);
  }

  private throwRemembered(key: string): void {
    const e = this.rememberedErrors.get(key);
    if (!e) return;
    if (this.o.clock.now() < e.until) throw e.error;
    this.rememberedErrors.delete(key);
  }
}
