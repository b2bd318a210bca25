import type { Connection } from 'mongoose';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Clock } from '../kernel/clock';
import type { Redis } from '../infra/redis';
import type { SecretBox } from '../tenancy/secret-box';
import type { ServiceKeys } from '../auth/service-keys';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { TenantResolver } from '../tenancy/tenant-resolver';

/** What a feature's routes may depend on; built once by the runtime (the composition root). */
export interface FeatureDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  redis: Redis;
  mongo: Connection;
  bus: InvalidationBus;
  box: SecretBox;
  keys: ServiceKeys;
  clients: WeChatClients;
  resolver: TenantResolver;
}

/** A feature: routes under /:appid, plus anything it must start and stop with the process. */
export interface Feature {
  routes: import('@koa/router').default<import('../http/context').GatewayState>[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
