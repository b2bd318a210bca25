import os from 'node:os';
import { loadConfigSubset, secretKeys } from '../kernel/config';
import { AuditLog } from '../audit/audit-log';
import { createLogger } from '../kernel/log';
import { connectMongo } from '../infra/mongo';
import { createRedis, connectRedis, redisTargetOf } from '../infra/redis';
import { publishInvalidation } from '../cache/invalidation-bus';
import { SecretBox } from '../tenancy/secret-box';
import { TenantRepository } from '../tenancy/tenant-repository';
import { operatorStores } from '../admin/operations/operator-stores';
import type { CliContext, CliRoot, Output } from '../admin/cli/cli-context';
import { tenantSections } from './features';

/** The tenants CLI's composition root: the gateway's tenant sections, and the stores it connects to. */
export const cliRoot: CliRoot = {
  sections: tenantSections,
  open: openCliContext,
};

async function openCliContext(env: NodeJS.ProcessEnv, io: Output): Promise<CliContext> {
  const cfg = loadConfigSubset(env, ['MONGODB_URI', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'SECRETS_KEY', 'SECRETS_KEYS', 'DELIVERY_SHARDS']);
  const log = createLogger('silent');
  const mongo = await connectMongo(cfg.MONGODB_URI);
  // Not a request path: a bulk apply's batches may wait on a busy Redis longer than a request would.
  const redis = createRedis(redisTargetOf(cfg), log, 'cli', { commandTimeoutMs: 10_000 });
  await connectRedis(redis, 5000);
  const box = new SecretBox(secretKeys(cfg));
  const repo = new TenantRepository(mongo, box, tenantSections);
  await repo.ensureIndexes();
  const audit = new AuditLog(mongo);
  await audit.ensureIndexes();
  return {
    ...io,
    ...operatorStores({ mongo, redis, repo, box, audit, deliveryShards: cfg.DELIVERY_SHARDS }),
    actor: `cli@${os.hostname()}`,
    announcePlatform: (componentAppid) => publishInvalidation(redis, { kind: 'platform', appid: componentAppid }),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await mongo.close();
    },
  };
}
