import { LRUCache } from 'lru-cache';
import { AppError } from '../kernel/errors';
import { SingleFlight } from '../cache/single-flight';
import type { AccessTokenSource } from './access-token-source';
import { FleetTokens, type FleetResult, type FleetTokensOptions, type Want } from './fleet-tokens';
import { LocalTokens } from './local-tokens';
import { isFresh, isUsable, makeRecord, type TokenRecord } from './token-record';

export type TokenManagerOptions = Omit<FleetTokensOptions, 'lockTtlMs'> & {
  /** Each upstream fetch's outcome; a failure comes with its error (an AppError for what sources throw on purpose). */
  onUpstreamFetch?: (owner: string, outcome: 'ok' | 'error', err?: unknown) => void;
  /** Must exceed the longest fetch (3 attempts x WECHAT_TIMEOUT_MS + backoff); 20 s unless given. */
  lockTtlMs?: number;
  /** Most tokens whose state this instance keeps (TENANT_CACHE_MAX); 10 000 unless given. */
  maxEntries?: number;
};

/** A token asked for within this long counts as active: the periodic renewal keeps it fresh. */
export const ACTIVE_WINDOW_MS = 15 * 60_000;

const ERROR_MEMORY_MS = 30_000;
/** After a refused token is reported to the central endpoint, further reports cause no fetch for this long (fleet-wide). */
export const REPORT_WINDOW_MS = 10_000;
/** A failed fetch (WeChat down, -1 after retries) is not repeated by every caller that follows. */
const TRANSIENT_ERROR_MEMORY_MS = 2_000;

const missingOrUnusable: Want = (c, n) => !c || !isUsable(c, n);
const missingOrStale: Want = (c, n) => !c || !isFresh(c, n);

/**
 * Access tokens of every source, shared by the fleet. It knows nothing of tenants or WeChat APIs:
 * a source gives the key and the fetch; this class gives
 * - one upstream call per token per refresh for the whole fleet (FleetTokens: L2, lock, polling),
 * - L1 hits without I/O, and one in-flight load per key in process (LocalTokens, SingleFlight),
 * - renewal from refreshAt while callers keep getting the still-valid token, so requests wait for
 *   WeChat only on a cold start,
 * - Redis down: the instance fetches on its own and keeps serving; it rejoins L2 when Redis returns.
 */
export class TokenManager {
  private readonly local: LocalTokens;
  private readonly fleet: FleetTokens;
  private readonly flight = new SingleFlight<TokenRecord>();
  private readonly background = new SingleFlight<void>();
  /**
   * The sources asked for lately (key -> the latest source object), least recently used dropped
   * first: the periodic renewal walks these only, so its cost follows the active tokens, not the
   * tenant count. Ages by the injected clock, so tests can move time.
   */
  private readonly active: LRUCache<string, AccessTokenSource>;
  private redisDown = false;

  constructor(private readonly o: TokenManagerOptions) {
    this.local = new LocalTokens(o.clock, o.maxEntries);
    this.active = new LRUCache<string, AccessTokenSource>({ max: o.maxEntries ?? 10_000, ttl: ACTIVE_WINDOW_MS, updateAgeOnGet: true, perf: { now: () => o.clock.now() } });
    this.fleet = new FleetTokens({ ...o, lockTtlMs: o.lockTtlMs ?? 20_000 });
    o.bus?.on('token', (m) => {
      if (m.ref) this.local.drop(m.ref);
    });
  }

  async get(source: AccessTokenSource): Promise<TokenRecord> {
    // A get refreshes the entry's age; a new source object (the tenant changed) replaces the old.
    if (this.active.get(source.key) !== source) this.active.set(source.key, source);
    const now = this.o.clock.now();
    const hit = this.local.get(source.key);
    if (hit && isUsable(hit, now)) {
      if (!isFresh(hit, now)) this.renewInBackground(source);
      return hit;
    }
    return this.flight.run(source.key, () => this.obtain(source));
  }

  /**
   * Compare-and-invalidate after upstream refused `failedToken` (40001/40014/42001): the fleet's
   * token is replaced only if it is still the one that failed, under the lock, so N callers that
   * saw the same failure cause one fetch. Returns the token to retry with.
   */
  async invalidate(source: AccessTokenSource, failedToken: string, onFetch?: () => void): Promise<TokenRecord> {
    this.local.forgetToken(source.key, failedToken);
    const want: Want = (cur, now) => !cur || cur.accessToken === failedToken || !isUsable(cur, now);
    return this.flight.run(`${source.key}#${failedToken}`, () => this.coordinated(source, want, failedToken, onFetch));
  }

  /**
   * A refusal reported by one of the tenant's other systems (the central token endpoint): like
   * `invalidate`, but at most one upstream fetch per token per REPORT_WINDOW_MS across the fleet. A
   * client that reports every token it gets (or one WeChat still accepts, which stable_token hands
   * back unchanged) cannot turn the endpoint into a fetch loop; callers inside the window get the
   * token the window's fetch returned.
   */
  async invalidateReported(source: AccessTokenSource, failedToken: string): Promise<TokenRecord> {
    let claimed: boolean;
    try {
      claimed = await this.fleet.claimReportWindow(source.key, REPORT_WINDOW_MS);
    } catch {
      // Redis unreachable: no fleet to coordinate with; invalidate copes with that on its own.
      return this.invalidate(source, failedToken);
    }
    if (claimed) {
      let fetched = false;
      try {
        return await this.invalidate(source, failedToken, () => (fetched = true));
      } finally {
        // A stale report (the fleet had already moved on) fetched nothing: it does not hold the window.
        await this.fleet.reportSettled(source.key, fetched).catch(() => undefined);
      }
    }
    const rec = await this.fleet.afterReportedFetch(source.key).catch(() => null);
    if (rec && isUsable(rec, this.o.clock.now())) {
      this.local.remember(source.key, rec);
      return rec;
    }
    // The window's fetch failed or its token is gone: an ordinary read (fetching only if none is usable).
    return this.get(source);
  }

  /** Renews every token of these sources that this instance holds and that is due. */
  refreshDue(sources: Iterable<AccessTokenSource>): void {
    const now = this.o.clock.now();
    for (const s of sources) {
      const rec = this.local.get(s.key);
      if (rec && !isFresh(rec, now)) this.renewInBackground(s);
    }
  }

  /**
   * The periodic renewal: the due tokens among those asked for within ACTIVE_WINDOW_MS. Costs
   * O(active tokens): tokens nobody asked for lately are left to expire (their next caller reads
   * the fleet's copy, or fetches once). Returns how many sources it looked at.
   */
  refreshActive(): number {
    this.active.purgeStale();
    const sources = [...this.active.values()];
    this.refreshDue(sources);
    return sources.length;
  }

  /** How many tokens count as active (asked for within ACTIVE_WINDOW_MS, at most maxEntries). */
  get activeCount(): number {
    this.active.purgeStale();
    return this.active.size;
  }

  close(): void {
    this.local.close();
  }

  private async obtain(source: AccessTokenSource): Promise<TokenRecord> {
    let cur: TokenRecord | null;
    try {
      cur = await this.fleet.read(source.key);
      this.redisUp();
    } catch (err) {
      return this.withoutRedis(source, err as Error);
    }
    const now = this.o.clock.now();
    if (cur && isUsable(cur, now)) {
      this.local.remember(source.key, cur);
      if (!isFresh(cur, now)) this.renewInBackground(source);
      return cur;
    }
    return this.coordinated(source, missingOrUnusable);
  }

  private async coordinated(source: AccessTokenSource, want: Want, failedToken?: string, onFetch?: () => void): Promise<TokenRecord> {
    const fetch = () => {
      onFetch?.();
      return this.fetchUpstream(source);
    };
    const r: FleetResult = await this.fleet.fetchUnderLock(source, want, fetch, failedToken);
    if (r.kind === 'unreachable') return this.withoutRedis(source, r.error);
    this.local.remember(source.key, r.rec);
    return r.rec;
  }

  private async fetchUpstream(source: AccessTokenSource): Promise<TokenRecord> {
    this.local.throwRemembered(source.key);
    try {
      const f = await source.fetch();
      this.o.onUpstreamFetch?.(source.owner, 'ok');
      this.o.log.info({ appid: source.owner, mode: source.kind, expiresIn: f.expiresIn }, 'access token fetched');
      return makeRecord(f.accessToken, f.expiresIn, this.o.clock.now());
    } catch (err) {
      this.o.onUpstreamFetch?.(source.owner, 'error', err);
      if (err instanceof AppError) {
        const lasting = err.code === 'TENANT_MISCONFIGURED' || err.status === 429;
        const ms = lasting ? Number(err.headers['Retry-After'] ?? ERROR_MEMORY_MS / 1000) * 1000 : TRANSIENT_ERROR_MEMORY_MS;
        this.local.rememberError(source.key, err, ms);
      }
      throw err;
    }
  }

  private renewInBackground(source: AccessTokenSource): void {
    if (!this.local.mayRenew(source.key)) return;
    void this.background.run(source.key, async () => {
      try {
        await this.coordinated(source, missingOrStale);
        this.local.renewalSucceeded(source.key);
      } catch (err) {
        // The current token is still valid: keep serving it, try again later with backoff.
        const retryInMs = this.local.renewalFailed(source.key);
        this.o.log.warn({ appid: source.owner, err: (err as Error).message, retryInMs }, 'token refresh failed; serving the current token');
      }
    });
  }

  /** Redis is unreachable: serve what this instance has, or fetch alone. */
  private async withoutRedis(source: AccessTokenSource, err: Error): Promise<TokenRecord> {
    if (!this.redisDown) {
      this.redisDown = true;
      this.o.log.error({ err: err.message }, 'redis unreachable: tokens are served from this instance alone');
    }
    const fb = this.local.usableFallback(source.key);
    if (fb) return fb;
    const rec = await this.fetchUpstream(source);
    this.local.keepLocalOnly(source.key, rec);
    return rec;
  }

  private redisUp(): void {
    if (this.redisDown) {
      this.redisDown = false;
      this.o.log.warn('redis reachable again: tokens are shared with the fleet');
    }
  }
}
