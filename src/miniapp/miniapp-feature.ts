import type { FeatureModule } from '../contracts/feature';
import type { ServiceKeys } from '../auth/service-keys';
import type { SessionStore } from '../auth/session-store';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { RateLimits } from '../limits/rate-limits';
import { miniappRoutes } from './miniapp-routes';

export interface MiniappNeeds {
  clients: WeChatClients;
  keys: ServiceKeys;
  sessions: SessionStore;
  limits: RateLimits;
}

/** Mini-program API endpoints: wxacode, messages, content security, media, links. */
export const miniappFeature: FeatureModule<MiniappNeeds> = {
  name: 'miniapp',
  create: (n) => ({ routes: [miniappRoutes({ clients: n.clients, keys: n.keys, sessions: n.sessions, limits: n.limits })] }),
};
