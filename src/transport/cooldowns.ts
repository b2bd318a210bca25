import { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import type { InvalidationBus } from '../cache/invalidation-bus';
import { ERR_DAILY_QUOTA } from './errcodes';

/** Entries (tenant x API in a cool-down) above which expired ones are swept when a new one starts. */
const PRUNE_ABOVE = 1000;

/**
 * After 45009 (daily quota) or 45011 (rate limit) a tenant's calls to that API fail fast for a
 * while instead of burning more quota. Known locally and broadcast, so the check on the hot path
 * costs no Redis round trip; an instance that starts during a cool-down learns it on its first
 * refused call.
 */
export class Cooldowns {
  private readonly until = new Map<string, { until: number; errcode: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly bus: InvalidationBus | undefined,
    private readonly quotaCooldownS: number,
    private readonly rateCooldownS: number,
  ) {
    bus?.on('cooldown', (m) => {
      if (m.ref && m.until) this.remember(`${m.appid} ${m.ref}`, { until: m.until, errcode: m.errcode ?? ERR_DAILY_QUOTA });
    });
  }

  check(appid: string, api: string): void {
    const c = this.until.get(`${appid} ${api}`);
    if (!c) return;
    const left = c.until - this.clock.now();
    if (left <= 0) {
      this.until.delete(`${appid} ${api}`);
      return;
    }
    throw cooldownError(c.errcode, api, Math.ceil(left / 1000));
  }

  /** Cool-downs that nobody checks again would stay forever: past PRUNE_ABOVE entries, the expired ones are dropped. */
  private remember(key: string, c: { until: number; errcode: number }): void {
    if (this.until.size >= PRUNE_ABOVE) {
      const now = this.clock.now();
      for (const [k, v] of this.until) if (v.until <= now) this.until.delete(k);
    }
    this.until.set(key, c);
  }

  /** Starts a cool-down and returns the error to answer with. */
  start(appid: string, api: string, errcode: number): AppError {
    const seconds = errcode === ERR_DAILY_QUOTA ? this.quotaCooldownS : this.rateCooldownS;
    const until = this.clock.now() + seconds * 1000;
    this.remember(`${appid} ${api}`, { until, errcode });
    void this.bus?.publish({ kind: 'cooldown', appid, ref: api, until, errcode });
    return cooldownError(errcode, api, seconds);
  }
}

export function cooldownError(errcode: number, api: string, retryAfterS: number): AppError {
  const quota = errcode === ERR_DAILY_QUOTA;
  return new AppError(
    429,
    quota ? 'WECHAT_QUOTA_EXCEEDED' : 'WECHAT_RATE_LIMITED',
    quota ? `WeChat daily quota for ${api} is used up; calls are paused` : `WeChat rate limit on ${api}; calls are paused`,
    { headers: { 'Retry-After': String(retryAfterS) }, details: { errcode, api, retryAfter: retryAfterS } },
  );
}
