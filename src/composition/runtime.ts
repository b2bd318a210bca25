import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import type Koa from 'koa';
import { secretKeys, type Config } from '../kernel/config';
import { createAccessLogger, type Logger } from '../kernel/log';
import { systemClock, type Clock } from '../kernel/clock';
import { sleep, withTimeout } from '../kernel/timers';
import type { GatewayState } from '../http/context';
import { createRedis, connectRedis, pingRedis, redisTargetOf, type Redis } from '../infra/redis';
import { connectMongo, onMongoHeartbeatFailure, pingMongo } from '../infra/mongo';
import { StoreOutage } from '../infra/store-outage';
import { InvalidationBus } from '../cache/invalidation-bus';
import { SecretBox } from '../tenancy/secret-box';
import { TenantRepository } from '../tenancy/tenant-repository';
import { TenantResolver } from '../tenancy/tenant-resolver';
import { WeChatHttp } from '../transport/wechat-http';
import { Cooldowns } from '../transport/cooldowns';
import { TokenManager } from '../token/token-manager';
import { TenantTokens } from '../token/tenant-tokens';
import { appSecretSources } from '../token/sources/app-secret-token';
import { Platforms } from '../platforms/platforms';
import { AuditLog } from '../audit/audit-log';
import { WeChatClients } from '../wechat/wechat-clients';
import { ServiceKeys } from '../auth/service-keys';
import { SessionStore } from '../auth/session-store';
import { healthRoutes } from '../ops/health';
import { Metrics } from '../ops/metrics';
import { Activity } from '../ops/activity';
import { RateLimits, rateDefaults } from '../limits/rate-limits';
import { adminRoutes } from '../admin/admin-routes';
import { overviewRoutes } from '../admin/overview-routes';
import { consoleRoutes } from '../admin/console/console-routes';
import { WebhookAdmin } from '../delivery/webhook-admin';
import { AdminOperations } from '../admin/operations/admin-operations';
import { operatorStores } from '../admin/operations/operator-stores';
import { requireAdmin, requireBearer, type AdminCredentials } from '../auth/admin-auth';
import type { Feature } from '../contracts/feature';
import { buildApp, reservedPaths } from './app';
import { FEATURES, tenantSections } from './features';
import { openApiRoutes } from './openapi';
import type { Services } from './services';

/** How often each instance looks for tokens due for renewal (requests also trigger renewal). */
const TOKEN_REFRESH_SCAN_MS = 15_000;

/**
 * The composition root: the only place that opens connections (MongoDB, three Redis connections:
 * commands, pub/sub, blocking reads) and builds the shared services; every feature in FEATURES is
 * created from them.
 */
export interface Runtime {
  config: Config;
  log: Logger;
  app: Koa<GatewayState>;
  redis: Redis;
  mongo: Connection;
  tenants: TenantRepository;
  /** The routes the app serves: gateway paths reserved for system routes, and every system and tenant route shape. */
  routes: { reserved: ReadonlySet<string>; system: RouteShape[]; tenant: RouteShape[] };
  close(): Promise<void>;
}

export interface RouteShape {
  path: string;
  methods: string[];
}

export interface RuntimeOptions {
  clock?: Clock;
}

export async function createRuntime(config: Config, log: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  const redisTarget = redisTargetOf(config);
  const redis = createRedis(redisTarget, log, 'main');
  const subscriber = createRedis(redisTarget, log, 'subscriber');
  const redisBlocking = createRedis(redisTarget, log, 'webhook-worker', { commandTimeoutMs: 10_000 });
  const mongo = await connectMongo(config.MONGODB_URI);
  await Promise.all([connectRedis(redis), connectRedis(subscriber), connectRedis(redisBlocking)]);

  // MongoDB outages are logged once each way; Redis connections log their own transitions.
  const mongoOutage = new StoreOutage('mongodb', log, () => pingMongo(mongo));
  onMongoHeartbeatFailure(mongo, (reason) => mongoOutage.failed(reason));

  const box = new SecretBox(secretKeys(config));
  const bus = new InvalidationBus(redis, subscriber, log);
  const tenants = new TenantRepository(mongo, box, tenantSections);
  await tenants.ensureIndexes();
  const resolver = new TenantResolver(tenants, redis, bus, log, { ttlSeconds: config.TENANT_CACHE_TTL_S, maxEntries: config.TENANT_CACHE_MAX });
  await bus.start();

  const metrics = new Metrics(true);
  metrics.watchStores({ mongodb: () => !mongoOutage.down, redis: () => redis.status === 'ready' });
  // Per-tenant activity for the operator console (pushes, rate-limit hits, token fetches), in Redis.
  const activity = new Activity({ redis, clock, log });
  metrics.watchTenantCache(() => resolver.size);
  metrics.limitTenantLabels(config.TENANT_CACHE_MAX);
  const keys = new ServiceKeys(mongo, { bus, mongoDown: () => mongoOutage.down });
  await keys.ensureIndexes();
  // WECHAT_API_BASE is the operator's choice; tenants' apiBase (and webhooks) follow the policy.
  const http = new WeChatHttp(config.WECHAT_TIMEOUT_MS, { allowPrivateAddresses: config.ALLOW_PRIVATE_URLS, trustedHosts: [new URL(config.WECHAT_API_BASE).hostname] });
  const cooldowns = new Cooldowns(clock, bus, config.WECHAT_QUOTA_COOLDOWN_S, config.WECHAT_RATE_LIMIT_COOLDOWN_S);
  const manager = new TokenManager({
    redis,
    box,
    bus,
    clock,
    log,
    sleep,
    // A fetch is up to three attempts (two -1 retries) of WECHAT_TIMEOUT_MS each, plus backoff.
    lockTtlMs: 3 * config.WECHAT_TIMEOUT_MS + 5000,
    maxEntries: config.TENANT_CACHE_MAX,
    onUpstreamFetch: (appid, outcome, err) => {
      metrics.tokenFetches.inc({ appid: metrics.tenantLabel(appid), outcome });
      if (outcome === 'ok') activity.tokenFetched(appid);
      else activity.tokenFetchFailed(appid, err);
    },
  });
  const tokens = new TenantTokens(manager, appSecretSources({ http, cooldowns, defaultApiBase: config.WECHAT_API_BASE, sleep }));
  const audit = new AuditLog(mongo, () => clock.now());
  await audit.ensureIndexes();
  const platforms = new Platforms({
    mongo,
    redis,
    box,
    bus,
    clock,
    log,
    http,
    tokens: manager,
    defaultApiBase: config.WECHAT_API_BASE,
    sleep,
    onReauthorizationRequired: (componentAppid, appid) => {
      metrics.reauthorizationRequired.inc({ component: componentAppid, appid: metrics.tenantLabel(appid) });
      void audit
        .record({ actor: `wechat:${componentAppid}`, action: 'authorizer.reauthorization_required', target: { kind: 'authorizer', id: appid }, appid, details: { errcode: 61023 } })
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'audit entry not written'));
    },
  });
  await platforms.ensureIndexes();
  // Mini programs authorized to a third-party platform: their tokens and logins go through it.
  tokens.register(
    'authorizer',
    'authorizer',
    (t) => platforms.authorizerSource(t),
    (t) => platforms.authorizerLogin(t),
  );
  const clients = new WeChatClients({
    http,
    tokens,
    cooldowns,
    defaultApiBase: config.WECHAT_API_BASE,
    sleep,
    onCall: (appid, api, outcome) => metrics.wechatCalls.inc({ appid: metrics.tenantLabel(appid), api, outcome }),
  });
  const services: Services = {
    config,
    log,
    clock,
    redis,
    redisBlocking,
    mongo,
    bus,
    box,
    resolver,
    tenantRepo: tenants,
    keys,
    sessions: new SessionStore(redis, config.SESSION_TTL_S, config.SESSION_MAX_PER_USER),
    tokens,
    tokenManager: manager,
    clients,
    metrics,
    http,
    platforms,
    audit,
    limits: new RateLimits({
      redis,
      defaults: rateDefaults(config),
      onLimited: (appid, limitClass) => {
        metrics.rateLimited.inc({ appid: metrics.tenantLabel(appid), class: limitClass });
        activity.count(appid, 'rateLimited');
      },
    }),
  };
  const features: Feature[] = [];
  for (const f of FEATURES) features.push(await f.create(services));

  // O(tokens asked for lately), not O(tenants): see TokenManager.refreshActive.
  const refreshTimer = setInterval(() => manager.refreshActive(), TOKEN_REFRESH_SCAN_MS);
  refreshTimer.unref();
  const adminCredentials: AdminCredentials = { adminToken: config.ADMIN_TOKEN, ...(config.ADMIN_TOKENS ? { operators: config.ADMIN_TOKENS } : {}) };
  const systemRoutes = [
    healthRoutes({
      mongodb: () => pingMongo(mongo),
      redis: async () => {
        await withTimeout(pingRedis(redis), 1000, 'redis ping timed out');
      },
    }),
    metrics.routes(config.METRICS_TOKEN === undefined ? undefined : requireBearer(config.METRICS_TOKEN, 'METRICS_TOKEN')),
    // Before the admin routes: their token check covers every /admin path in the merged router, and
    // the console's page, script and style are fetched by a browser that has no token to send.
    consoleRoutes(),
    adminRoutes({
      credentials: adminCredentials,
      ops: new AdminOperations(operatorStores({ mongo, redis, repo: tenants, box, audit, deliveryShards: config.DELIVERY_SHARDS }), keys),
      audit,
      allowPrivateUrls: config.ALLOW_PRIVATE_URLS,
    }),
    overviewRoutes(requireAdmin(adminCredentials), { tenants, activity, webhooks: new WebhookAdmin(redis, config.DELIVERY_SHARDS) }),
    openApiRoutes(),
    ...features.flatMap((f) => f.systemRoutes ?? []),
  ];
  const tenantRoutes = features.flatMap((f) => f.routes ?? []);
  const app = buildApp({
    log,
    accessLog: createAccessLogger(config.LOG_LEVEL),
    resolver,
    metrics,
    systemRoutes,
    tenantRoutes,
    fastRoutes: features.flatMap((f) => f.fastRoutes ?? []),
    activity: activity.middleware(),
    onStoreUnavailable: (store, err) => {
      if (store === 'mongodb') mongoOutage.failed(err instanceof Error ? err.name : 'error');
    },
  });

  for (const f of features) await f.start?.();
  activity.start();

  return {
    config,
    log,
    app,
    redis,
    mongo,
    tenants,
    routes: {
      reserved: reservedPaths(systemRoutes),
      system: routeShapes(systemRoutes),
      tenant: routeShapes(tenantRoutes),
    },
    async close() {
      clearInterval(refreshTimer);
      mongoOutage.close();
      for (const f of features) await f.stop?.();
      await activity.stop();
      manager.close();
      keys.close();
      resolver.close();
      subscriber.disconnect();
      redisBlocking.disconnect();
      await redis.quit().catch(() => redis.disconnect());
      await mongo.close();
    },
  };
}

/** Each route of the routers as path and methods (router.use() layers, which have no methods, left out). */
function routeShapes(routers: { stack: { path: unknown; methods: string[] }[] }[]): RouteShape[] {
  return routers.flatMap((r) => r.stack.filter((l) => l.methods.length > 0).map((l) => ({ path: String(l.path), methods: [...l.methods] })));
}

/** Stops accepting, lets in-flight requests finish (up to graceMs), then closes connections. */
export async function shutdown(server: Server, runtime: Runtime, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A request in flight at SIGTERM is answered on a keep-alive connection, which then turns idle and
  // would hold close() open until the client leaves; keep closing idle connections until done.
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(sweeper);
  clearTimeout(timer);
  await runtime.close();
}
