import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/infra/mongo';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TenantRepository } from '../../src/tenancy/tenant-repository';
import { ServiceKeys } from '../../src/auth/service-keys';
import { parseTenantDefinition, tenantSections } from '../../src/composition/features';
import { TEST_SECRETS_KEY, startGateway, type GatewayProcess } from './gateway-process';
import type { TenantFixture } from './tenant-fixtures';

/** Direct access to the stores the gateways use, for seeding tenants and keys. */
export class Stores {
  private constructor(
    readonly conn: Connection,
    readonly repo: TenantRepository,
    readonly keys: ServiceKeys,
  ) {}

  static async open(uri = process.env.MONGODB_URI ?? ''): Promise<Stores> {
    const conn = await connectMongo(uri);
    const repo = new TenantRepository(conn, new SecretBox(TEST_SECRETS_KEY), tenantSections);
    await repo.ensureIndexes();
    const keys = new ServiceKeys(conn);
    await keys.ensureIndexes();
    return new Stores(conn, repo, keys);
  }

  async seed(t: TenantFixture): Promise<void> {
    // Test tenants call the sandbox and webhook receivers on 127.0.0.1.
    await this.repo.upsert(parseTenantDefinition(t, 'fixture', { allowPrivateUrls: true }));
  }

  async key(appid: string, name = 'test'): Promise<string> {
    return (await this.keys.create(appid, name)).key;
  }

  async close(): Promise<void> {
    this.keys.close();
    await this.conn.close();
  }
}

export async function startFleet(n: number, extraEnv: Record<string, string> = {}): Promise<GatewayProcess[]> {
  return Promise.all(Array.from({ length: n }, () => startGateway({ LOG_LEVEL: 'warn', ...extraEnv })));
}

export async function stopFleet(fleet: GatewayProcess[]): Promise<void> {
  await Promise.all(fleet.map((g) => g.stop()));
}
