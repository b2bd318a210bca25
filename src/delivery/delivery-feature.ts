import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { Config } from '../kernel/config';
import type { Logger } from '../kernel/log';
import type { Redis } from '../infra/redis';
import type { TenantResolver } from '../tenancy/tenant-resolver';
import type { Metrics } from '../ops/metrics';
import { WebhookWorker } from './webhook-worker';
import { webhookSection } from './webhook-section';

export interface DeliveryNeeds {
  redis: Redis;
  /** A connection of its own: XREADGROUP blocks it (the worker opens a copy per shard). */
  redisBlocking: Redis;
  resolver: TenantResolver;
  log: Logger;
  clock: Clock;
  metrics: Pick<Metrics, 'webhookDeliveryErrors' | 'webhookOldestPending' | 'webhookDeadLetters' | 'tenantLabel'>;
  config: Pick<
    Config,
    | 'WEBHOOK_MAX_ATTEMPTS'
    | 'DELIVERY_SHARDS'
    | 'WEBHOOK_CONCURRENCY'
    | 'WEBHOOK_TIMEOUT_MS'
    | 'WEBHOOK_RETRY_BASE_MS'
    | 'WEBHOOK_RETRY_MAX_MS'
    | 'WEBHOOK_TENANT_CONCURRENCY'
    | 'WEBHOOK_DEAD_RETENTION_DAYS'
    | 'ALLOW_PRIVATE_URLS'
  >;
}

/** Webhook delivery: every instance runs a worker that forwards queued pushes to tenants' webhooks (unless WEBHOOK_CONCURRENCY is 0). */
export const deliveryFeature: FeatureModule<DeliveryNeeds> = {
  name: 'delivery',
  sections: [webhookSection],
  create: (n) => {
    // An ingress-only instance (WEBHOOK_CONCURRENCY=0): its pushes wait in Redis for the fleet's delivering instances.
    if (n.config.WEBHOOK_CONCURRENCY === 0) return {};
    const worker = new WebhookWorker({
      redis: n.redis,
      blocking: n.redisBlocking,
      resolveTenant: (appid) => n.resolver.resolve(appid),
      log: n.log,
      clock: n.clock,
      maxAttempts: n.config.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: n.config.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: n.config.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: n.config.WEBHOOK_RETRY_MAX_MS,
      shards: n.config.DELIVERY_SHARDS,
      concurrency: n.config.WEBHOOK_CONCURRENCY,
      tenantConcurrency: n.config.WEBHOOK_TENANT_CONCURRENCY,
      deadRetentionMs: n.config.WEBHOOK_DEAD_RETENTION_DAYS * 86_400_000,
      onError: (appid, reason) => n.metrics.webhookDeliveryErrors.inc({ appid: n.metrics.tenantLabel(appid), reason }),
      onOldestPending: (appid, seconds) => n.metrics.webhookOldestPending.set({ appid: n.metrics.tenantLabel(appid) }, seconds),
      onDeadLetter: (appid) => n.metrics.webhookDeadLetters.inc({ appid: n.metrics.tenantLabel(appid) }),
      allowPrivateAddresses: n.config.ALLOW_PRIVATE_URLS,
    });
    return {
      start: async () => worker.start(),
      stop: () => worker.stop(),
    };
  },
};
