import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import type { Clock } from '../kernel/clock';
import { AppError, WeChatApiError } from '../kernel/errors';
import type { Logger } from '../kernel/log';
import type { GatewayMiddleware } from '../http/context';

/** What the operator console counts per tenant: pushes accepted and rejected, requests refused 429 RATE_LIMITED. */
export type ActivityKind = 'accepted' | 'rejected' | 'rateLimited';

const FIELD: Record<ActivityKind, string> = { accepted: 'a', rejected: 'r', rateLimited: 'l' };

/** A tenant's counts over the last 60 minutes (the current minute included), all instances together. */
export interface TenantActivity {
  accepted1h: number;
  rejected1h: number;
  rateLimited1h: number;
}

/** A tenant's access token as the console shows it: age of the last fetch, and the last failed fetch (within the hour). */
export interface TokenActivity {
  ageS: number | null;
  lastError: { at: string; code: string; message: string } | null;
}

export interface ActivityOptions {
  redis: Redis;
  clock: Clock;
  log: Logger;
  /** How often the in-process counts go to Redis (default 5 s). */
  flushEveryMs?: number;
}

const MINUTE_MS = 60_000;
/** An hour key lives two hours: the last 60 minutes always span this hour and the one before. */
const ACTIVITY_TTL_S = 2 * 3600;
/** A token's last fetch time outlives any token (7200 s) so an idle tenant still shows its age. */
const TOKEN_FETCHED_TTL_S = 24 * 3600;
const TOKEN_ERROR_TTL_S = 3600;
/** Counts kept in process while Redis is away; beyond this many tenant-minutes they are dropped. */
const MAX_PENDING = 50_000;
const MAX_ERROR_MESSAGE = 300;

/**
 * Per-tenant activity for the operator console, shared by every instance through Redis.
 *
 * The hot path only bumps an in-process counter (`count`); every few seconds the counts go to Redis
 * as HINCRBY on one hash per tenant and hour, one pipeline per tenant (all of a tenant's keys share
 * its `{appid}` hash tag, so this holds on Redis Cluster too, and no command spans two tenants).
 * Reads sum the last 60 one-minute buckets. Counts are approximate by design: a crash loses at
 * most one flush interval of this instance's counts.
 */
export class Activity {
  /** `appid` -> `minute:field` -> count, not yet in Redis. */
  private pending = new Map<string, Map<string, number>>();
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private warned = false;

  constructor(private readonly o: ActivityOptions) {}

  /** Counts one event of a tenant (no I/O). */
  count(appid: string, kind: ActivityKind, n = 1): void {
    const key = `${Math.floor(this.o.clock.now() / MINUTE_MS)}:${FIELD[kind]}`;
    let m = this.pending.get(appid);
    if (!m) {
      if (this.size >= MAX_PENDING) return;
      m = new Map();
      this.pending.set(appid, m);
    }
    const before = m.get(key);
    if (before === undefined) {
      if (this.size >= MAX_PENDING) return;
      this.size++;
    }
    m.set(key, (before ?? 0) + n);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.o.flushEveryMs ?? 5000);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes the counts gathered so far to Redis (one flush at a time; a failed one keeps its counts for the next). */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.size = 0;
    await Promise.all(
      [...batch].map(async ([appid, fields]) => {
        const p = this.o.redis.pipeline();
        const hours = new Set<number>();
        for (const [field, n] of fields) {
          const hour = Math.floor(Number(field.slice(0, field.indexOf(':'))) / 60);
          hours.add(hour);
          p.hincrby(redisKeys.activity(appid, hour), field, n);
        }
        for (const hour of hours) p.expire(redisKeys.activity(appid, hour), ACTIVITY_TTL_S);
        try {
          const results = (await p.exec()) ?? [];
          const failed = results.find(([err]) => err);
          if (failed) throw failed[0];
          this.warned = false;
        } catch (err) {
          // Redis away: keep the counts for the next flush (bounded), say so once.
          for (const [field, n] of fields) this.putBack(appid, field, n);
          if (!this.warned) this.o.log.warn({ err: (err as Error).message }, 'console activity not written to redis; kept for the next flush');
          this.warned = true;
        }
      }),
    );
  }

  private putBack(appid: string, field: string, n: number): void {
    let m = this.pending.get(appid);
    if (!m) {
      if (this.size >= MAX_PENDING) return;
      m = new Map();
      this.pending.set(appid, m);
    }
    const before = m.get(field);
    if (before === undefined) {
      if (this.size >= MAX_PENDING) return;
      this.size++;
    }
    m.set(field, (before ?? 0) + n);
  }

  /** A token was fetched from WeChat for `appid` (fire and forget: the console's view is not worth failing a fetch). */
  tokenFetched(appid: string): void {
    this.o.redis.set(redisKeys.tokenFetchedAt(appid), String(this.o.clock.now()), 'EX', TOKEN_FETCHED_TTL_S).catch(() => undefined);
  }

  /** A token fetch failed: its code and message (AppErrors' messages carry no secrets; anything else is reduced to its kind). */
  tokenFetchFailed(appid: string, err: unknown): void {
    const e =
      err instanceof AppError
        ? { code: err.code, message: err.message }
        : err instanceof WeChatApiError
          ? { code: 'WECHAT_API_ERROR', message: `WeChat answered errcode ${err.errcode}` }
          : { code: 'INTERNAL', message: 'unexpected error' };
    const value = JSON.stringify({ at: new Date(this.o.clock.now()).toISOString(), code: e.code, message: e.message.slice(0, MAX_ERROR_MESSAGE) });
    this.o.redis.set(redisKeys.tokenLastError(appid), value, 'EX', TOKEN_ERROR_TTL_S).catch(() => undefined);
  }

  /** The activity and token state of these tenants, read with one pipeline per tenant (Cluster-safe). */
  async read(appids: readonly string[]): Promise<Map<string, { activity: TenantActivity; token: TokenActivity }>> {
    const now = this.o.clock.now();
    const minute = Math.floor(now / MINUTE_MS);
    const hour = Math.floor(minute / 60);
    const out = new Map<string, { activity: TenantActivity; token: TokenActivity }>();
    await Promise.all(
      appids.map(async (appid) => {
        const results = await this.o.redis
          .pipeline()
          .hgetall(redisKeys.activity(appid, hour))
          .hgetall(redisKeys.activity(appid, hour - 1))
          .get(redisKeys.tokenFetchedAt(appid))
          .get(redisKeys.tokenLastError(appid))
          .exec();
        const value = (i: number): unknown => {
          const r = results?.[i];
          if (!r || r[0]) throw r?.[0] ?? new Error('no pipeline result');
          return r[1];
        };
        const activity: TenantActivity = { accepted1h: 0, rejected1h: 0, rateLimited1h: 0 };
        for (const h of [value(0), value(1)] as Record<string, string>[]) {
          for (const [field, n] of Object.entries(h)) {
            const [m, f] = field.split(':');
            if (minute - Number(m) >= 60 || minute < Number(m)) continue;
            if (f === 'a') activity.accepted1h += Number(n);
            else if (f === 'r') activity.rejected1h += Number(n);
            else if (f === 'l') activity.rateLimited1h += Number(n);
          }
        }
        const fetchedAt = Number(value(2) ?? NaN);
        out.set(appid, {
          activity,
          token: { ageS: Number.isFinite(fetchedAt) ? Math.max(0, Math.floor((now - fetchedAt) / 1000)) : null, lastError: parseTokenError(value(3)) },
        });
      }),
    );
    return out;
  }

  /**
   * Counts WeChat pushes (POST to a tenant's or its platform's portal URL) as accepted or rejected,
   * by the tenant the request resolved to. Goes inside the error handler, so it sees refusals as
   * the thrown errors they are.
   */
  middleware(): GatewayMiddleware {
    return async (ctx, next) => {
      let ok = false;
      try {
        await next();
        ok = ctx.status < 400;
      } finally {
        const appid = ctx.state.tenant?.appid;
        if (appid !== undefined && ctx.method === 'POST' && ctx.path.endsWith('/portal')) this.count(appid, ok ? 'accepted' : 'rejected');
      }
    };
  }
}

function parseTokenError(raw: unknown): TokenActivity['lastError'] {
  if (typeof raw !== 'string') return null;
  try {
    const v = JSON.parse(raw) as { at?: unknown; code?: unknown; message?: unknown };
    return typeof v.at === 'string' && typeof v.code === 'string' && typeof v.message === 'string' ? { at: v.at, code: v.code, message: v.message } : null;
  } catch {
    return null;
  }
}
