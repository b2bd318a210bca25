import type { Connection } from 'mongoose';
import { loadConfigSubset } from '../../kernel/config';
import { createLogger } from '../../kernel/log';
import { connectMongo } from '../../infra/mongo';
import { createRedis, connectRedis, type Redis } from '../../infra/redis';
import { publishInvalidation } from '../../cache/invalidation-bus';
import { SecretBox } from '../../tenancy/secret-box';
import { TenantRepository } from '../../tenancy/tenant-repository';
import type { TenantSections } from '../../tenancy/tenant-sections';
import { announceTenantChange } from '../../tenancy/tenant-resolver';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What CLI commands work with: the stores, and how to tell running gateways about a change. */
export interface CliContext extends Output {
  mongo: Connection;
  redis: Redis;
  repo: TenantRepository;
  box: SecretBox;
  /** Drops every gateway's cached copy of the tenant. */
  announce(appid: string): Promise<void>;
  close(): Promise<void>;
}

export async function openCliContext(env: NodeJS.ProcessEnv, io: Output, sections: TenantSections): Promise<CliContext> {
  const cfg = loadConfigSubset(env, ['MONGODB_URI', 'REDIS_URL', 'SECRETS_KEY']);
  const log = createLogger('silent');
  const mongo = await connectMongo(cfg.MONGODB_URI);
  const redis = createRedis(cfg.REDIS_URL, log, 'cli');
  await connectRedis(redis, 5000);
  const box = new SecretBox(cfg.SECRETS_KEY);
  const repo = new TenantRepository(mongo, box, sections);
  await repo.ensureIndexes();
  return {
    ...io,
    mongo,
    redis,
    repo,
    box,
    announce: (appid) => announceTenantChange(redis, (a) => publishInvalidation(redis, { kind: 'tenant', appid: a }), appid),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await mongo.close();
    },
  };
}
