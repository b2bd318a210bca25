import { expect } from 'chai';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant, writeTenantFiles } from '../support/tenant-fixtures';
import { cli, request, stopAll } from '../support/gateway-helpers';

/**
 * TENANT_CACHE_MAX bounds the decrypted tenants a gateway holds: with 50, a gateway serving 200
 * tenants answers every one correctly (evicted ones are read again from Redis or MongoDB) while
 * `wxgate_tenant_cache_size` never goes above 50.
 */
describe('tenancy: the tenant cache is an LRU bounded by TENANT_CACHE_MAX', function () {
  this.timeout(180_000);

  const tenants = Array.from({ length: 200 }, (_, i) => makeTenant({ name: `LRU shop ${i}` }));
  let gw: GatewayProcess | undefined;
  before(async () => {
    const [file] = writeTenantFiles(tenants);
    await cli(['apply', file!]);
    gw = await startGateway({ TENANT_CACHE_MAX: '50', TENANT_CACHE_TTL_S: '3600' }, 60_000);
  });
  after(() => stopAll([gw]));

  const cacheSize = async (): Promise<number> => {
    const text = (await request(`${gw!.url}/metrics`)).text;
    const m = /^wxgate_tenant_cache_size (\d+)$/m.exec(text);
    expect(m, 'wxgate_tenant_cache_size is exported').to.not.equal(null);
    return Number(m![1]);
  };

  it('answers all 200 tenants correctly, twice over, with at most 50 cached', async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < tenants.length; i += 20) {
        const batch = tenants.slice(i, i + 20);
        const rs = await Promise.all(batch.map((t) => request(`${gw!.url}/${t.appid}`)));
        rs.forEach((r, j) => {
          expect(r.status, r.text).to.equal(200);
          expect(r.json).to.deep.equal({ appid: batch[j]!.appid, name: batch[j]!.name, status: 'active' });
        });
        expect(await cacheSize()).to.be.at.most(50);
      }
    }
    expect(await cacheSize(), 'the cache is in use').to.be.at.least(20);
  });

  it('recently used tenants stay cached: the last 50 served are answered with the cache full', async () => {
    const recent = tenants.slice(-50);
    for (const t of recent) expect((await request(`${gw!.url}/${t.appid}`)).status).to.equal(200);
    expect(await cacheSize()).to.equal(50);
  });
});
