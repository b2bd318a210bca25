import type { Feature, FeatureDeps } from '../contracts/feature';
import { createRedis, connectRedis } from '../infra/redis';
import { WebhookWorker } from '../delivery/webhook-worker';
import { PushIntake } from './push-intake';
import { PushReplayGuard } from './push-replay-guard';
import { portalRoutes } from './portal-routes';

/** WeChat retries for up to ~15 s; an answered push is remembered far longer, and at least as long as a push is accepted. */
const DEDUP_MIN_TTL_S = 300;

/** The push portal and the webhook worker that forwards accepted pushes to tenants. */
export async function portalFeature(deps: FeatureDeps): Promise<Feature> {
  const { config } = deps;
  const blocking = createRedis(config.REDIS_URL, deps.log, 'webhook-worker', { commandTimeoutMs: 10_000 });
  await connectRedis(blocking);
  const worker = new WebhookWorker({
    redis: deps.redis,
    blocking,
    resolveTenant: (appid) => deps.resolver.resolve(appid),
    log: deps.log,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: config.WEBHOOK_RETRY_MAX_MS,
  });
  return {
    routes: [
      portalRoutes({
        clock: deps.clock,
        log: deps.log,
        intake: new PushIntake(deps.redis, Math.max(DEDUP_MIN_TTL_S, 2 * config.PORTAL_TIMESTAMP_WINDOW_S)),
        replayGuard: new PushReplayGuard(deps.redis, config.PORTAL_TIMESTAMP_WINDOW_S),
        clients: deps.clients,
        maxBodyBytes: config.PORTAL_MAX_BODY_BYTES,
        timestampWindowS: config.PORTAL_TIMESTAMP_WINDOW_S,
      }),
    ],
    start: async () => worker.start(),
    stop: () => worker.stop(),
  };
}
