import { expect } from 'chai';
import { Redis as IORedis } from 'ioredis';
import { redisKeys } from '../../src/infra/redis-keys';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant, writeTenantFiles, type TenantFixture } from '../support/tenant-fixtures';
import { cli, pollUntil, rawTenants, request, stopAll, withRawMongo } from '../support/gateway-helpers';

/**
 * `tenants -- apply` of many tenants at once (the real CLI, real MongoDB-wire server, real Redis and
 * a real gateway process): every definition is validated before anything is written, the writes are
 * bulk, the re-run writes nothing, and running gateways drop their copies through a few batched
 * messages, not one per tenant.
 */
describe('tenancy: bulk apply of many tenants', function () {
  this.timeout(180_000);

  const N = 1200; // more than one batch of 1000
  const tenants: TenantFixture[] = Array.from({ length: N }, (_, i) => makeTenant({ name: `Bulk shop ${i}` }));
  const appids = tenants.map((t) => t.appid);
  let gw: GatewayProcess | undefined;
  after(() => stopAll([gw]));

  const countStored = async (ids: string[]) => (await rawTenants({ appid: { $in: ids } })).length;
  const countAudit = (ids: string[]) => withRawMongo((db) => db.collection('audit_log').countDocuments({ appid: { $in: ids }, action: 'tenant.apply' }));

  it('one invalid definition among many: nothing is written, and the error names the entry', async () => {
    const bad = tenants.slice(0, 300).map((t, i) => (i === 150 ? { ...t, secret: 'not-a-secret' } : t));
    const [file] = writeTenantFiles(bad);
    const r = await cli(['apply', file!], 1);
    expect(r.stderr).to.include(`${file}[150]: invalid fields:`);
    expect(r.stderr).to.include('secret:');
    expect(r.stderr).to.include('nothing was written');
    expect(r.stderr, 'the bad value is not echoed').to.not.include('not-a-secret');
    expect(await countStored(appids.slice(0, 300))).to.equal(0);
  });

  it(`${N} tenants in one file: all created in bulk, each audited once`, async () => {
    const [file] = writeTenantFiles(tenants);
    const r = await cli(['apply', file!]);
    expect(r.stdout.split('\n').filter((l) => / created \(/.test(l))).to.have.length(N);
    expect(await countStored(appids)).to.equal(N);
    expect(await countAudit(appids)).to.equal(N);
    const [one] = await rawTenants({ appid: appids[777] });
    expect(one?.name).to.equal('Bulk shop 777');
    expect(String(one?.secret)).to.match(/^v2\./);
  });

  it('the same file again writes nothing: all unchanged, no audit entry, no timestamps moved', async () => {
    const before = new Map((await rawTenants({ appid: { $in: appids } })).map((d) => [d.appid, String(d.updatedAt)]));
    const [file] = writeTenantFiles(tenants);
    const r = await cli(['apply', file!]);
    expect(r.stdout.split('\n').filter((l) => / unchanged \(/.test(l))).to.have.length(N);
    expect(await countAudit(appids)).to.equal(N);
    const after = await rawTenants({ appid: { $in: appids } });
    expect(after.filter((d) => before.get(d.appid as string) !== String(d.updatedAt))).to.deep.equal([]);
  });

  it('a half-applied state (a crash mid-way) converges on re-run: changed ones updated, the rest unchanged', async () => {
    // As if an earlier apply of a new version had written only its first batch.
    const v2 = tenants.map((t, i) => ({ ...t, name: `Bulk shop ${i} v2` }));
    const [firstPart] = writeTenantFiles(v2.slice(0, 400));
    await cli(['apply', firstPart!]);
    const [all] = writeTenantFiles(v2);
    const r = await cli(['apply', all!]);
    expect(r.stdout.split('\n').filter((l) => / unchanged \(/.test(l))).to.have.length(400);
    expect(r.stdout.split('\n').filter((l) => / updated \(/.test(l))).to.have.length(N - 400);
    const names = (await rawTenants({ appid: { $in: appids } })).map((d) => d.name as string);
    expect(names.filter((n) => !n.endsWith(' v2'))).to.deep.equal([]);
  });

  it('a running gateway serves the new values within 2 s, from a few batched messages', async () => {
    gw = await startGateway({}, 60_000);
    const watched = [appids[0]!, appids[999]!, appids[N - 1]!];
    for (const a of watched) expect((await request(`${gw.url}/${a}`)).status).to.equal(200);

    const sub = new IORedis(process.env.REDIS_URL ?? '');
    const messages: string[] = [];
    sub.on('message', (_c: string, m: string) => messages.push(m));
    await sub.subscribe(redisKeys.invalidationChannel);
    try {
      const v3 = tenants.map((t, i) => ({ ...t, name: `Bulk shop ${i} v3` }));
      const [file] = writeTenantFiles(v3);
      await cli(['apply', file!]);
      let last = '';
      await pollUntil(
        async () => {
          const rs = await Promise.all(watched.map((a) => request(`${gw!.url}/${a}`)));
          last = rs.map((x) => x.text).join(' | ');
          return rs.every((x) => x.status === 200 && String((x.json as { name?: string }).name).endsWith(' v3'));
        },
        { withinMs: 2000, everyMs: 50, what: 'new names on the gateway', last: () => last },
      );
      const tenantMessages = messages.map((m) => JSON.parse(m) as { kind: string; appids?: string[] }).filter((m) => m.kind === 'tenant');
      expect(tenantMessages.length, 'one message per 1000 tenants, not one per tenant').to.equal(Math.ceil(N / 1000));
      expect(tenantMessages.flatMap((m) => m.appids ?? []).sort()).to.deep.equal([...appids].sort());
    } finally {
      sub.disconnect();
    }
  });
});
