import { randomBytes } from 'node:crypto';
import { startTestMongo } from '../../src/devstack/mongo-server';
import { startTestRedis } from '../../src/devstack/redis-server';
import { connectMongo } from '../../src/infra/mongo';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TenantRepository } from '../../src/tenancy/tenant-repository';
import { ServiceKeys } from '../../src/auth/service-keys';
import type { TenantFileContent } from '../../src/devstack/demo-tenant';
import { parseTenantDefinition, tenantSections } from '../../src/composition/features';

export type BenchStores = Awaited<ReturnType<typeof benchStores>>;

/** MongoDB and Redis for a benchmark: the environment's when set, else local throw-away ones. */
export async function benchStores(): Promise<{
  mongoUri: string;
  redisUrl: string;
  secretsKey: string;
  /** Pids of the stores this process started (none for MONGODB_URI / REDIS_URL given), to read their CPU time. */
  pids: { mongo?: number; redis?: number };
  stop(): Promise<void>;
}> {
  const stops: (() => Promise<void>)[] = [];
  const pids: { mongo?: number; redis?: number } = {};
  let mongoUri = process.env.MONGODB_URI;
  let redisUrl = process.env.REDIS_URL;
  if (!mongoUri) {
    const m = await startTestMongo();
    mongoUri = m.uri;
    pids.mongo = m.pid;
    stops.push(() => m.stop());
  }
  if (!redisUrl) {
    const r = await startTestRedis();
    redisUrl = r.url;
    if (r.pid) pids.redis = r.pid;
    stops.push(() => r.stop());
  }
  return {
    mongoUri,
    redisUrl,
    secretsKey: process.env.SECRETS_KEY ?? randomBytes(32).toString('base64'),
    pids,
    stop: async () => {
      for (const s of stops) await s();
    },
  };
}

/** A benchmark tenant with fresh random credentials (overridable), and optionally a service key. */
export async function seedTenant(stores: BenchStores, def: Partial<TenantFileContent> & { appid: string }, withKey = false): Promise<{ tenant: TenantFileContent; key?: string }> {
  const tenant: TenantFileContent = {
    name: 'bench',
    secret: randomBytes(16).toString('hex'),
    token: 'benchtoken',
    aesKey: randomBytes(32).toString('base64').slice(0, 43),
    msgFormat: 'json',
    tokenMode: 'stable',
    status: 'active',
    rules: [],
    ...def,
  };
  const conn = await connectMongo(stores.mongoUri);
  try {
    const repo = new TenantRepository(conn, new SecretBox(stores.secretsKey), tenantSections);
    await repo.ensureIndexes();
    await repo.upsert(parseTenantDefinition(tenant, 'bench tenant', { allowPrivateUrls: true }));
    if (!withKey) return { tenant };
    const keys = new ServiceKeys(conn);
    try {
      await keys.ensureIndexes();
      return { tenant, key: (await keys.create(tenant.appid, 'bench')).key };
    } finally {
      keys.close();
    }
  } finally {
    await conn.close();
  }
}
