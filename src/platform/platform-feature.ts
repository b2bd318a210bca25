import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import type { TenantRepository } from '../tenancy/tenant-repository';
import type { Platforms } from '../platforms/platforms';
import type { Metrics } from '../ops/metrics';
import type { AuditLog } from '../audit/audit-log';
import type { RateLimits } from '../limits/rate-limits';
import { Authorizations } from './authorizations';
import { platformRoutes } from './platform-routes';

export interface PlatformNeeds {
  platforms: Platforms;
  audit: AuditLog;
  tenantRepo: TenantRepository;
  redis: Redis;
  clock: Clock;
  log: Logger;
  metrics: Pick<Metrics, 'platformTicketAge'>;
  limits: Pick<RateLimits, 'consume'>;
  config: Pick<Config, 'PUBLIC_BASE_URL' | 'PORTAL_TIMESTAMP_WINDOW_S' | 'ALLOW_PRIVATE_URLS' | 'RATE_LIMIT_PLATFORM_AUTHORIZE'>;
}

/** How often each instance refreshes the ticket-age gauge (it reads one small document per platform). */
const TICKET_AGE_EVERY_MS = 30_000;

/** Third-party platform mode: authorization events and tickets, the authorization page and its callback. */
export const platformFeature: FeatureModule<PlatformNeeds> = {
  name: 'platform',
  create: (n) => {
    const authorizations = new Authorizations({
      platforms: n.platforms,
      tenants: n.tenantRepo,
      redis: n.redis,
      clock: n.clock,
      log: n.log,
      allowPrivateUrls: n.config.ALLOW_PRIVATE_URLS,
      audit: n.audit,
    });
    let timer: NodeJS.Timeout | undefined;
    const measure = async () => {
      try {
        for (const { componentAppid, at } of await n.platforms.store.ticketTimes()) {
          n.metrics.platformTicketAge.set({ component: componentAppid }, at ? Math.max(0, (n.clock.now() - at.getTime()) / 1000) : Number.POSITIVE_INFINITY);
        }
      } catch (err) {
        n.log.debug({ err: (err as Error).message }, 'ticket ages not measured');
      }
    };
    return {
      systemRoutes: [
        platformRoutes({
          platforms: n.platforms,
          authorizations,
          clock: n.clock,
          redis: n.redis,
          timestampWindowS: n.config.PORTAL_TIMESTAMP_WINDOW_S,
          limits: n.limits,
          authorizeRate: n.config.RATE_LIMIT_PLATFORM_AUTHORIZE,
          ...(n.config.PUBLIC_BASE_URL ? { publicBaseUrl: n.config.PUBLIC_BASE_URL } : {}),
        }),
      ],
      start: async () => {
        void measure();
        timer = setInterval(() => void measure(), TICKET_AGE_EVERY_MS);
        timer.unref();
      },
      stop: async () => clearInterval(timer),
    };
  },
};
