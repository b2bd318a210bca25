import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import type Koa from 'koa';
import type { Config } from './config';
import type { Logger } from './log';
import type { GatewayState } from './http/context';
import { buildApp } from './app';
import { createRedis, connectRedis, type Redis } from './infra/redis';
import { connectMongo, pingMongo, withTimeout } from './infra/mongo';
import { InvalidationBus } from './cache/invalidation-bus';
import { SecretBox } from './tenancy/secret-box';
import { TenantRepository } from './tenancy/tenant-repository';
import { TenantResolver } from './tenancy/tenant-resolver';
import { tenantRoutes } from './tenancy/tenant-routes';
import { healthRoutes } from './ops/health';
import { Metrics } from './ops/metrics';
import { adminRoutes } from './admin/admin-routes';

/**
 * The composition root: connects the outside world (MongoDB, Redis) and wires every module with
 * its dependencies. Nothing else in src/ opens connections.
 */
export interface Runtime {
  config: Config;
  log: Logger;
  app: Koa<GatewayState>;
  redis: Redis;
  mongo: Connection;
  close(): Promise<void>;
}

export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  const redis = createRedis(config.REDIS_URL, log, 'main');
  const subscriber = createRedis(config.REDIS_URL, log, 'subscriber');
  const mongo = await connectMongo(config.MONGODB_URI);
  await Promise.all([connectRedis(redis), connectRedis(subscriber)]);

  const box = new SecretBox(config.SECRETS_KEY);
  const bus = new InvalidationBus(redis, subscriber, log);
  const repo = new TenantRepository(mongo, box);
  await repo.ensureIndexes();
  const resolver = new TenantResolver(repo, redis, bus, log, config.TENANT_CACHE_TTL_S);
  await bus.start();

  const metrics = new Metrics(true);
  const app = buildApp({
    log,
    resolver,
    metrics,
    systemRoutes: [
      healthRoutes({
        mongodb: () => pingMongo(mongo),
        redis: async () => {
          await withTimeout(redis.ping(), 1000, 'redis ping timed out');
        },
      }),
      metrics.routes(),
      adminRoutes(config.ADMIN_TOKEN, repo),
    ],
    tenantRoutes: [tenantRoutes()],
  });

  return {
    config,
    log,
    app,
    redis,
    mongo,
    async close() {
      resolver.close();
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
      await mongo.close();
    },
  };
}

/** Stops accepting, lets in-flight requests finish (up to graceMs), then closes connections. */
export async function shutdown(server: Server, runtime: Runtime, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
  await runtime.close();
}
