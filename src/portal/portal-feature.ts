import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import type { WeChatClients } from '../wechat/wechat-clients';
import { PushIntake } from './push-intake';
import { PushReplayGuard } from './push-replay-guard';
import { portalRoutes } from './portal-routes';
import { portalSection } from './portal-section';

/** WeChat retries for up to ~15 s; an answered push is remembered far longer, and at least as long as a push is accepted. */
const DEDUP_MIN_TTL_S = 300;

export interface PortalNeeds {
  redis: Redis;
  clients: WeChatClients;
  clock: Clock;
  log: Logger;
  config: Pick<Config, 'PORTAL_MAX_BODY_BYTES' | 'PORTAL_TIMESTAMP_WINDOW_S'>;
}

/** The push portal: WeChat's messages and events, verified, answered and queued for the webhook. */
export const portalFeature: FeatureModule<PortalNeeds> = {
  name: 'portal',
  sections: [portalSection],
  create: (n) => ({
    routes: [
      portalRoutes({
        clock: n.clock,
        log: n.log,
        intake: new PushIntake(n.redis, Math.max(DEDUP_MIN_TTL_S, 2 * n.config.PORTAL_TIMESTAMP_WINDOW_S)),
        replayGuard: new PushReplayGuard(n.redis, n.config.PORTAL_TIMESTAMP_WINDOW_S),
        clients: n.clients,
        maxBodyBytes: n.config.PORTAL_MAX_BODY_BYTES,
        timestampWindowS: n.config.PORTAL_TIMESTAMP_WINDOW_S,
      }),
    ],
  }),
};
