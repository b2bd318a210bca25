import type { Connection } from 'mongoose';
import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { SecretBox } from '../tenancy/secret-box';
import type { ServiceKeys } from '../auth/service-keys';
import type { SessionStore } from '../auth/session-store';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { TokenManager } from '../token/token-manager';
import { WeChatHttp } from '../transport/wechat-http';
import type { Metrics } from '../ops/metrics';
import { EventForwarder } from '../delivery/event-forwarder';
import { MerchantRepository } from '../merchants/merchant-repository';
import { MerchantDirectory } from '../merchants/merchant-directory';
import { paySection } from './pay-section';
import { PayTransport } from './pay-transport';
import { PlatformKeys } from './platform-keys';
import { PayApi } from './pay-api';
import { OrderStore } from './order-store';
import { OrderService } from './order-service';
import { payRoutes } from './pay-routes';

export interface PayNeeds {
  config: Pick<Config, 'PUBLIC_BASE_URL' | 'PAY_TIMEOUT_MS' | 'ALLOW_PRIVATE_URLS' | 'DELIVERY_SHARDS'>;
  log: Logger;
  clock: Clock;
  redis: Redis;
  mongo: Connection;
  bus: InvalidationBus;
  box: SecretBox;
  keys: ServiceKeys;
  sessions: SessionStore;
  clients: WeChatClients;
  tokenManager: TokenManager;
  metrics: Pick<Metrics, 'payNotifications' | 'tenantLabel'>;
}

/** WeChat Pay v3: JSAPI orders, refunds, verified notifications forwarded to the tenant webhook, shipping information. */
export const payFeature: FeatureModule<PayNeeds> = {
  name: 'pay',
  sections: [paySection],
  create: async (n) => {
    const merchantRepo = new MerchantRepository(n.mongo, n.box);
    const store = new OrderStore(n.mongo);
    await Promise.all([merchantRepo.ensureIndexes(), store.ensureIndexes()]);
    // Merchants' payBase follows the outbound address policy like tenants' URLs (validated at apply, enforced per connection).
    const transport = new PayTransport(new WeChatHttp(n.config.PAY_TIMEOUT_MS, { allowPrivateAddresses: n.config.ALLOW_PRIVATE_URLS }), n.clock, n.config.PAY_TIMEOUT_MS);
    const platformKeys = new PlatformKeys(n.tokenManager, transport, n.clock);
    const orders = new OrderService(store, new PayApi(transport, platformKeys), new EventForwarder(n.redis, n.clock, n.config.DELIVERY_SHARDS), n.clock, n.log);
    if (!n.config.PUBLIC_BASE_URL) n.log.warn('PUBLIC_BASE_URL is not set: pay orders and refunds answer 503 PAY_NOT_CONFIGURED');
    return {
      routes: [
        payRoutes({
          orders,
          merchants: new MerchantDirectory(merchantRepo, n.clock, n.bus),
          platformKeys,
          keys: n.keys,
          sessions: n.sessions,
          clients: n.clients,
          clock: n.clock,
          onNotification: (appid, kind, outcome) => n.metrics.payNotifications.inc({ appid: n.metrics.tenantLabel(appid), kind, outcome }),
          ...(n.config.PUBLIC_BASE_URL ? { publicBaseUrl: n.config.PUBLIC_BASE_URL } : {}),
        }),
      ],
    };
  },
};
