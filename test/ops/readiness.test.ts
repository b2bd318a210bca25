import { expect } from 'chai';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { TestRedis } from '../../src/devstack/redis-server';
import { makeTenant } from '../support/tenant-fixtures';
import { applyTenants, expectErrorBody, logLines, pollUntil, request, stopAll, type HttpResult } from '../support/gateway-helpers';

interface ReadyBody {
  status?: string;
  checks?: Record<string, string>;
  error?: { code?: string; message?: string };
}

describe('ops: /healthz and /readyz', function () {
  this.timeout(40_000);

  // A Redis of our own, so stopping it does not disturb anybody else's tests.
  const redis = new TestRedis();
  let gw: GatewayProcess | undefined;

  before(async () => {
    await redis.start();
    gw = await startGateway({ REDIS_URL: redis.url });
  });
  after(async () => {
    await stopAll([gw]);
    await redis.stop();
  });

  const get = (path: string): Promise<HttpResult> => request(gw!.url + path, { signal: AbortSignal.timeout(4000) });
  const alive = () => expect(gw!.child.exitCode, `gateway died:\n${gw!.output().slice(-3000)}`).to.equal(null);

  it('/healthz is 200', async () => {
    const r = await get('/healthz');
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal({ status: 'ok' });
  });

  it('/readyz is 200 with every check ok', async () => {
    const r = await get('/readyz');
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({ status: 'ready', checks: { mongodb: 'ok', redis: 'ok' } });
  });

  it('Redis down -> /readyz 503 NOT_READY naming redis; the gateway keeps running', async () => {
    await redis.stop();
    let last: HttpResult | undefined;
    const elapsed = await pollUntil(
      async () => {
        last = await get('/readyz');
        return last.status === 503;
      },
      { withinMs: 5000, everyMs: 100, what: '/readyz 503', last: () => `${last?.status} ${last?.text}` },
    );
    expect(elapsed).to.be.below(5000);
    const body = last!.json as ReadyBody;
    expect(body.error?.code).to.equal('NOT_READY');
    expect(body.error?.message).to.include('redis');
    expect(body.error?.message).to.not.include('mongodb');
    expect(body.checks).to.deep.equal({ mongodb: 'ok', redis: 'down' });
    expect(last!.headers.get('x-request-id')).to.be.a('string');

    // Still alive and still answering.
    const h = await get('/healthz');
    expect(h.status).to.equal(200);
    alive();
  });

  it('while Redis is down, a tenant not yet cached is still served from MongoDB', async () => {
    const t = makeTenant();
    // The CLI talks to the shared test Redis, which is up; this gateway has never seen the tenant.
    await applyTenants(t);
    const r = await get(`/${t.appid}`);
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({ appid: t.appid, name: t.name, status: 'active' });
    expectErrorBody(await get('/wx0000000000000000'), 404, 'TENANT_NOT_FOUND');
    alive();
  });

  it('Redis back on the same port -> /readyz 200 again', async () => {
    await redis.start();
    let last: HttpResult | undefined;
    const elapsed = await pollUntil(
      async () => {
        last = await get('/readyz');
        return last.status === 200;
      },
      { withinMs: 10_000, everyMs: 100, what: '/readyz 200 again', last: () => `${last?.status} ${last?.text}` },
    );
    expect(elapsed).to.be.below(10_000);
    expect(last!.json).to.deep.equal({ status: 'ready', checks: { mongodb: 'ok', redis: 'ok' } });
    alive();
  });

  it('logged the outage and the recovery once per connection, not once per failed command', () => {
    const lines = logLines(gw!);
    const byConnection = (msg: string): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const l of lines.filter((x) => x.msg === msg)) counts[String(l.redis)] = (counts[String(l.redis)] ?? 0) + 1;
      return counts;
    };
    const unavailable = byConnection('redis unavailable');
    const restored = byConnection('redis connection restored');
    const context = JSON.stringify({ unavailable, restored });
    for (const name of ['main', 'subscriber']) {
      expect(unavailable[name], context).to.equal(1);
      expect(restored[name], context).to.equal(1);
    }
    for (const n of [...Object.values(unavailable), ...Object.values(restored)]) expect(n, context).to.equal(1);
    // The reason only, no stack trace.
    for (const l of lines.filter((x) => x.msg === 'redis unavailable')) expect(l.err).to.be.a('string').and.not.include('\n    at ');
    alive();
  });
});
