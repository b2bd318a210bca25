import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../kernel/errors';
import { formatRate, parseRate, type Rate } from '../kernel/rates';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import type { GatewayMiddleware } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import type { Tenant } from '../tenancy/tenant';
import { limitsSection, type LimitClass } from './limits-section';

export interface RateLimitsOptions {
  /** The commands connection (fails fast while Redis is away: no offline queue). */
  redis: Redis;
  /** RATE_LIMIT_* from the environment: `null` is `off`. */
  defaults: Readonly<Record<LimitClass, Rate | null>>;
  /** A request was refused 429 RATE_LIMITED (for the metric and the operator console's counts). */
  onLimited?: (appid: string, limitClass: string) => void;
}

/**
 * Per-tenant request rates, counted in Redis so that every instance draws on the same allowance
 * (rate-limiter-flexible's RateLimiterRedis: one fixed window per tenant and kind of route, one
 * atomic script per request). A tenant's `limits` section overrides the env default kind by kind.
 *
 * When Redis cannot be reached the request is counted by an in-process limiter of the same rate
 * instead (the library's insurance limiter): each instance then enforces the rate on its own, so the
 * fleet allows at most instances x rate, and no request fails because the counter is away.
 */
export class RateLimits {
  /** One limiter per distinct rate (tenants sharing a rate share it; their keys keep them apart). */
  private readonly limiters = new Map<string, RateLimiterRedis>();
  /** Tenant-file rates as parsed, by their text. */
  private readonly parsed = new Map<string, Rate | null>();

  constructor(private readonly opts: RateLimitsOptions) {
    // RateLimiterRedis defines its Lua command (defineCommand) on the shared client when the first
    // limiter is made. An ioredis auto-pipeline already open in that tick was built without the
    // command: the call then throws inside ioredis, which leaves its callbacks and replies out of
    // step and crashes the process ("results[i] is not iterable", ioredis #1931). Defining it now,
    // before any traffic, means every later pipeline has it.
    this.limiterFor({ points: 1, durationS: 1 });
  }

  /** The rate that applies to a tenant's routes of one kind (`null`: no limit). */
  rateFor(tenant: Tenant, limitClass: LimitClass): Rate | null {
    const text = limitsSection.of(tenant).limits?.[limitClass];
    if (text === undefined) return this.opts.defaults[limitClass];
    let rate = this.parsed.get(text);
    if (rate === undefined) {
      // Validated when the tenant was applied; a value that no longer parses falls back to the default.
      const read = parseRate(text);
      rate = read === undefined ? this.opts.defaults[limitClass] : read;
      this.parsed.set(text, rate);
    }
    return rate;
  }

  /**
   * Counts one request; throws 429 RATE_LIMITED (with Retry-After) when the window's allowance is
   * used up. `authorize` counts a third-party platform's public authorization page (per component appid).
   */
  async consume(appid: string, limitClass: LimitClass | 'authorize', rate: Rate): Promise<void> {
    try {
      await this.limiterFor(rate).consume(redisKeys.rateLimitKey(appid, limitClass));
    } catch (rej) {
      if (!(rej instanceof RateLimiterRes)) throw rej;
      const retryAfter = Math.max(1, Math.ceil(rej.msBeforeNext / 1000));
      this.opts.onLimited?.(appid, limitClass);
      const whose = limitClass === 'authorize' ? 'platform' : 'mini program';
      throw new AppError(429, 'RATE_LIMITED', `too many ${limitClass} requests for this ${whose} (limit ${formatRate(rate)}); retry in ${retryAfter} s`, {
        headers: { 'Retry-After': String(retryAfter) },
        details: { limit: formatRate(rate), retryAfter },
      });
    }
  }

  /** Middleware for routes under /:appid (after the tenant resolver): counts the request against the tenant's rate. */
  middleware(limitClass: LimitClass): GatewayMiddleware {
    return async (ctx, next) => {
      const tenant = tenantOf(ctx);
      const rate = this.rateFor(tenant, limitClass);
      if (rate !== null) await this.consume(tenant.appid, limitClass, rate);
      await next();
    };
  }

  private limiterFor(rate: Rate): RateLimiterRedis {
    const id = `${rate.points}/${rate.durationS}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const keyPrefix = redisKeys.rateLimitPrefix(rate.durationS);
      limiter = new RateLimiterRedis({
        storeClient: this.opts.redis,
        keyPrefix,
        points: rate.points,
        duration: rate.durationS,
        // Redis not connected: straight to the local limiter rather than waiting on a command.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: rate.points, duration: rate.durationS }),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

/** The RATE_LIMIT_* settings as the defaults of RateLimits. */
export function rateDefaults(config: {
  RATE_LIMIT_LOGIN: Rate | null;
  RATE_LIMIT_USERS: Rate | null;
  RATE_LIMIT_MINIAPP: Rate | null;
  RATE_LIMIT_PASSTHROUGH: Rate | null;
}): Record<LimitClass, Rate | null> {
  return { login: config.RATE_LIMIT_LOGIN, users: config.RATE_LIMIT_USERS, miniapp: config.RATE_LIMIT_MINIAPP, passthrough: config.RATE_LIMIT_PASSTHROUGH };
}
