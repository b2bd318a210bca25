import type { Connection } from 'mongoose';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Clock } from '../kernel/clock';
import type { Redis } from '../infra/redis';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { SecretBox } from '../tenancy/secret-box';
import type { TenantResolver } from '../tenancy/tenant-resolver';
import type { ServiceKeys } from '../auth/service-keys';
import type { SessionStore } from '../auth/session-store';
import type { TenantTokens } from '../token/tenant-tokens';
import type { TokenManager } from '../token/token-manager';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { Metrics } from '../ops/metrics';
import type { Platforms } from '../platforms/platforms';
import type { AuditLog } from '../audit/audit-log';
import type { TenantRepository } from '../tenancy/tenant-repository';
import type { WeChatHttp } from '../transport/wechat-http';
import type { RateLimits } from '../limits/rate-limits';

/**
 * Everything the composition root builds once per process and may hand to features. A feature
 * names the part it needs in its own `...Needs` type; it never receives this whole object by type.
 */
export interface Services {
  config: Config;
  log: Logger;
  clock: Clock;
  redis: Redis;
  /** A second connection for blocking reads (XREADGROUP). */
  redisBlocking: Redis;
  mongo: Connection;
  bus: InvalidationBus;
  box: SecretBox;
  resolver: TenantResolver;
  /** Tenants in MongoDB, for features that create or change tenants (a platform's authorizers). */
  tenantRepo: TenantRepository;
  keys: ServiceKeys;
  sessions: SessionStore;
  tokens: TenantTokens;
  /** The fleet token manager, for features that add token sources of their own (a merchant's platform certificates). */
  tokenManager: TokenManager;
  clients: WeChatClients;
  metrics: Metrics;
  /** The HTTP edge to WeChat (keep-alive, timeouts, outbound address policy). */
  http: WeChatHttp;
  /** Third-party platforms: definitions, tickets, component APIs, authorizers. */
  platforms: Platforms;
  /** Where changes to configuration and to tenants' standing are recorded. */
  audit: AuditLog;
  /** Per-tenant request rates shared by the fleet (login, users, mini-program APIs, passthrough). */
  limits: RateLimits;
}
