import type { FeatureModule } from '../contracts/feature';
import type { ServiceKeys } from '../auth/service-keys';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { RateLimits } from '../limits/rate-limits';
import { passthroughRoutes } from './passthrough-routes';

export interface PassthroughNeeds {
  keys: ServiceKeys;
  clients: WeChatClients;
  limits: RateLimits;
}

/** /:appid/wxapi/<path>: any WeChat API with the tenant's token injected. */
export const passthroughFeature: FeatureModule<PassthroughNeeds> = {
  name: 'passthrough',
  create: (n) => ({ routes: [passthroughRoutes(n.keys, n.clients, n.limits)] }),
};
