import { LRUCache } from 'lru-cache';
import type { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import { isUsable, type TokenRecord } from './token-record';

/** Tokens fetched while Redis was unreachable are kept briefly, so the instance rejoins the fleet soon. */
const LOCAL_ONLY_TTL_S = 30;
const FAILURE_BACKOFF_MAX_MS = 60_000;
const FAILURE_BACKOFF_START_MS = 500;
/** Records kept at most unless told (TENANT_CACHE_MAX in the gateway). */
export const LOCAL_TOKENS_MAX = 10_000;

/**
 * This process's side of the token cache, with no I/O: L1 records, the last good record of each key
 * (served while Redis is unreachable), errors worth remembering (so a burst of callers does not
 * repeat a misconfigured or over-quota fetch), and the backoff of failed background renewals.
 * Each is an LRU bounded by count: with 100 000 tenants an instance keeps the state of the
 * `maxEntries` it used last, not of every tenant it ever served (a dropped record is read from
 * Redis again on its next use).
 */
export class LocalTokens {
  private readonly l1: LRUCache<string, TokenRecord>;
  private readonly fallback: LRUCache<string, TokenRecord>;
  private readonly errors: LRUCache<string, { until: number; error: AppError }>;
  private readonly failures: LRUCache<string, { nextAttemptAt: number; delayMs: number }>;

  constructor(
    private readonly clock: Clock,
    maxEntries = LOCAL_TOKENS_MAX,
  ) {
    // Expiry is the token's own (per entry), checked against the injected clock's time when read.
    this.l1 = new LRUCache<string, TokenRecord>({ max: maxEntries, ttlAutopurge: false });
    this.fallback = new LRUCache<string, TokenRecord>({ max: maxEntries });
    this.errors = new LRUCache<string, { until: number; error: AppError }>({ max: maxEntries });
    this.failures = new LRUCache<string, { nextAttemptAt: number; delayMs: number }>({ max: maxEntries });
  }

  get(key: string): TokenRecord | undefined {
    return this.l1.get(key);
  }

  /** Keeps a record the fleet agreed on, unless this process already holds a newer one. */
  remember(key: string, rec: TokenRecord): void {
    const held = this.l1.get(key);
    if (held && held.accessToken !== rec.accessToken && held.issuedAt > rec.issuedAt) return;
    const ttl = Math.max(1, Math.ceil((rec.expiresAt - this.clock.now()) / 1000));
    this.l1.set(key, rec, { ttl: ttl * 1000 });
    this.fallback.set(key, rec);
    this.errors.delete(key);
  }

  /** Another instance (or the CLI) announced a new token or credential: re-read L2 on the next call, and forget a remembered failure. */
  drop(key: string): void {
    this.l1.delete(key);
    this.errors.delete(key);
  }

  /** WeChat refused `failedToken`: no copy of it is served again. */
  forgetToken(key: string, failedToken: string): void {
    if (this.l1.get(key)?.accessToken === failedToken) this.l1.delete(key);
    if (this.fallback.get(key)?.accessToken === failedToken) this.fallback.delete(key);
  }

  /** The last good record, for when Redis is unreachable; kept in L1 only briefly. */
  usableFallback(key: string): TokenRecord | undefined {
    const fb = this.fallback.get(key);
    if (!fb || !isUsable(fb, this.clock.now())) return undefined;
    this.l1.set(key, fb, { ttl: LOCAL_ONLY_TTL_S * 1000 });
    return fb;
  }

  /** A record fetched without the fleet (Redis unreachable). */
  keepLocalOnly(key: string, rec: TokenRecord): void {
    this.fallback.set(key, rec);
    this.l1.set(key, rec, { ttl: LOCAL_ONLY_TTL_S * 1000 });
  }

  rememberError(key: string, error: AppError, forMs: number): void {
    this.errors.set(key, { until: this.clock.now() + forMs, error });
  }

  /** Throws the error a recent fetch of this key ended with, while it is remembered. */
  throwRemembered(key: string): void {
    const e = this.errors.get(key);
    if (!e) return;
    if (this.clock.now() < e.until) throw e.error;
    this.errors.delete(key);
  }

  /** False while a failed background renewal of this key is backing off. */
  mayRenew(key: string): boolean {
    const f = this.failures.get(key);
    return !f || this.clock.now() >= f.nextAttemptAt;
  }

  renewalFailed(key: string): number {
    const delayMs = Math.min(FAILURE_BACKOFF_MAX_MS, (this.failures.get(key)?.delayMs ?? FAILURE_BACKOFF_START_MS) * 2);
    this.failures.set(key, { nextAttemptAt: this.clock.now() + delayMs, delayMs });
    return delayMs;
  }

  renewalSucceeded(key: string): void {
    this.failures.delete(key);
  }

  close(): void {
    this.l1.clear();
  }
}
