import path from 'node:path';
import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import { SpoolFile } from '../infra/spool-file';
import type { WeChatClients } from '../wechat/wechat-clients';
import { PushIntake, isPushClaim, type PushClaim } from './push-intake';
import { sendRuleMessages } from './rule-messages';
import type { CustomerMessage } from './rules';
import type { TenantResolver } from '../tenancy/tenant-resolver';
import { PushReplayGuard } from './push-replay-guard';
import { PushAcceptor } from './push-acceptor';
import { BodyReader } from './body-reader';
import { platformPortalRoutes, portalPush, portalRoutes, type PortalOptions } from './portal-routes';
import type { PlatformKeyring } from '../contracts/platform-keys';
import { portalSection } from './portal-section';

/** WeChat retries for up to ~15 s; an answered push is remembered far longer, and at least as long as a push is accepted. */
const DEDUP_MIN_TTL_S = 300;

export interface PortalNeeds {
  redis: Redis;
  resolver: TenantResolver;
  clients: WeChatClients;
  clock: Clock;
  log: Logger;
  platforms: PlatformKeyring;
  config: Pick<Config, 'PORTAL_MAX_BODY_BYTES' | 'PORTAL_TIMESTAMP_WINDOW_S' | 'PORTAL_BODY_TIMEOUT_MS' | 'PORTAL_MAX_PENDING_BODIES' | 'SPOOL_DIR' | 'SPOOL_MAX_BYTES' | 'DELIVERY_SHARDS'>;
}

/** The push portal: WeChat's messages and events, verified, answered and queued for the webhook. */
export const portalFeature: FeatureModule<PortalNeeds> = {
  name: 'portal',
  sections: [portalSection],
  create: (n) => {
    const c = n.config;
    const intake = new PushIntake(n.redis, Math.max(DEDUP_MIN_TTL_S, 2 * c.PORTAL_TIMESTAMP_WINDOW_S), c.DELIVERY_SHARDS);
    const spool = new SpoolFile<PushClaim>(path.resolve(c.SPOOL_DIR), c.SPOOL_MAX_BYTES, isPushClaim);
    const acceptor = new PushAcceptor(
      intake,
      spool,
      () => n.redis.status === 'ready',
      n.log,
      (claim) => {
        const a = claim.actions;
        if (!a) return;
        void n.resolver
          .resolve(a.appid)
          .then((tenant) => {
            if (tenant) sendRuleMessages(n.clients, tenant, a.touser, a.customerMessages as CustomerMessage[], n.log);
          })
          .catch((err: unknown) => n.log.warn({ appid: a.appid, err: (err as Error).message }, 'customer messages of a spooled push not sent'));
      },
    );
    const options: PortalOptions = {
      clock: n.clock,
      log: n.log,
      acceptor,
      replayGuard: new PushReplayGuard(n.redis, c.PORTAL_TIMESTAMP_WINDOW_S, c.DELIVERY_SHARDS),
      bodies: new BodyReader(c.PORTAL_MAX_BODY_BYTES, c.PORTAL_BODY_TIMEOUT_MS, c.PORTAL_MAX_PENDING_BODIES),
      clients: n.clients,
      timestampWindowS: c.PORTAL_TIMESTAMP_WINDOW_S,
      resolver: n.resolver,
      platforms: n.platforms,
    };
    return {
      routes: [portalRoutes(options)],
      systemRoutes: [platformPortalRoutes(options)],
      // Every push is a POST to /:appid/portal: answered without matching the other routes.
      fastRoutes: [{ method: 'POST', segment: 'portal', handle: portalPush(options) }],
      start: () => acceptor.start(),
      stop: () => acceptor.stop(),
    };
  },
};
