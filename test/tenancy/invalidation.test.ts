import { expect } from 'chai';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant } from '../support/tenant-fixtures';
import { applyTenants, cli, pollUntil, request, sleep, stopAll, withRawMongo, type HttpResult } from '../support/gateway-helpers';

/**
 * Two gateway processes share Redis and MongoDB. The CLI is a third process: a change it makes must
 * reach both gateways' in-memory caches within a second (TENANT_CACHE_TTL_S stays at its default of
 * 60 s, so only the pub/sub invalidation can explain a change seen in time).
 */
describe('tenancy: tenant invalidation across gateway processes', function () {
  this.timeout(30_000);

  let gws: GatewayProcess[] = [];
  const t = makeTenant();

  before(async () => {
    await applyTenants(t);
    gws = await Promise.all([startGateway(), startGateway()]);
  });
  after(() => stopAll(gws));

  const fetchAll = (): Promise<HttpResult[]> => Promise.all(gws.map((gw) => request(`${gw.url}/${t.appid}`)));

  /** Polls both gateways every 50 ms; returns ms until both satisfied `ok`. */
  async function bothWithin1s(ok: (r: HttpResult) => boolean, what: string): Promise<number> {
    let last: HttpResult[] = [];
    const elapsed = await pollUntil(
      async () => {
        last = await fetchAll();
        return last.every(ok);
      },
      { withinMs: 1000, everyMs: 50, what, last: () => last.map((r) => `${r.status} ${r.text}`).join(' | ') },
    );
    expect(elapsed, what).to.be.below(1000);
    return elapsed;
  }

  it('both processes serve the tenant (and now hold it in memory)', async () => {
    for (const r of await fetchAll()) {
      expect(r.status, r.text).to.equal(200);
      expect(r.json).to.deep.equal({ appid: t.appid, name: t.name, status: 'active' });
    }
  });

  it("control: a change written behind the gateways' backs is not seen (they serve from memory)", async () => {
    await withRawMongo((db) => db.collection('tenants').updateOne({ appid: t.appid }, { $set: { status: 'disabled' } }));
    try {
      await sleep(300);
      for (const r of await fetchAll()) expect(r.status, 'served from cache, so still 200').to.equal(200);
    } finally {
      await withRawMongo((db) => db.collection('tenants').updateOne({ appid: t.appid }, { $set: { status: 'active' } }));
    }
    for (const r of await fetchAll()) expect(r.status).to.equal(200);
  });

  it('disable via the CLI -> both refuse with 403 within 1 s', async () => {
    await cli(['disable', t.appid]);
    await bothWithin1s((r) => r.status === 403 && (r.json as { error?: { code?: string } })?.error?.code === 'TENANT_DISABLED', '403 on both');
  });

  it('enable via the CLI -> both serve it again within 1 s', async () => {
    await cli(['enable', t.appid]);
    await bothWithin1s((r) => r.status === 200 && (r.json as { status?: string })?.status === 'active', '200 on both');
  });

  it('apply with a changed name -> the new name on both within 1 s', async () => {
    const renamed = `${t.name} (renamed ${Date.now()})`;
    const r = await applyTenants({ ...t, name: renamed });
    expect(r.stdout).to.include(`${t.appid} updated`);
    await bothWithin1s((x) => x.status === 200 && (x.json as { name?: string })?.name === renamed, 'new name on both');
  });

  it('remove via the CLI -> both answer 404 within 1 s; a re-apply is served again', async () => {
    await cli(['remove', t.appid]);
    await bothWithin1s((r) => r.status === 404 && (r.json as { error?: { code?: string } })?.error?.code === 'TENANT_NOT_FOUND', '404 on both');
    await applyTenants(t);
    await bothWithin1s((r) => r.status === 200 && (r.json as { name?: string })?.name === t.name, '200 after re-apply');
  });
});
