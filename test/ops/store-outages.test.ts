import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createSandbox, type SandboxServer, type Sandbox } from '../../src/sandbox';
import { startTestMongo, type TestMongo } from '../../src/devstack/mongo-server';
import { Stores } from '../support/fleet';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import { runTenantsCli, startGateway, type GatewayProcess } from '../support/gateway-process';
import { logLines, pollUntil, request, sleep, stopAll, type HttpResult } from '../support/gateway-helpers';

/** What a client must see while a store is down: 503 STORE_UNAVAILABLE with Retry-After, soon. */
const OUTAGE_ANSWER_MS = 2500;

/**
 * MongoDB unavailable (killed, or hung with SIGSTOP) under gateways that keep running: a MongoDB of
 * this suite's own, so stopping it disturbs no other test; Redis is the shared one.
 */
describe('store outages: MongoDB down or hung, two gateways', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let sbx: SandboxServer;
  let mongo: TestMongo;
  let stores: Stores;
  let fleet: GatewayProcess[] = [];
  let t: TenantFixture;
  /** A key the gateways verified before the outage. */
  let verifiedKey: string;
  /** A key revoked through the CLI before the outage. */
  let revokedKey: string;

  before(async () => {
    sandbox = createSandbox();
    sbx = await sandbox.listen(0, '127.0.0.1');
    mongo = await startTestMongo();
    stores = await Stores.open(mongo.uri);
    t = makeTenant({ apiBase: sbx.url });
    sandbox.registerApp({ appid: t.appid, secret: t.secret });
    await stores.seed(t);
    verifiedKey = await stores.key(t.appid, 'verified');
    revokedKey = await stores.key(t.appid, 'revoked');
    fleet = await Promise.all([0, 1].map(() => startGateway({ MONGODB_URI: mongo.uri, LOG_LEVEL: 'info' })));
  });

  after(async () => {
    // A failed test may leave the JVM stopped; it must be able to exit.
    resume();
    await stopAll(fleet);
    await stores.close().catch(() => undefined);
    await mongo.stop();
    await sbx.close();
  });

  const resume = () => {
    try {
      process.kill(mongo.pid, 'SIGCONT');
    } catch {
      // already gone
    }
  };
  const tokenWith = (gw: GatewayProcess, key: string) => request(`${gw.url}/${t.appid}/access-token`, { auth: key, timeoutMs: 10_000 });
  const login = (gw: GatewayProcess) => request(`${gw.url}/${t.appid}/auth/login`, { method: 'POST', jsonBody: { code: 'test:outage-user' }, timeoutMs: 10_000 });
  const neverSeenKey = () => `wxk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const unknownAppid = () => 'wx' + randomBytes(8).toString('hex');
  const linesSaying = (gw: GatewayProcess, msg: string) => logLines(gw).filter((l) => l.msg === msg);

  async function timed(call: () => Promise<HttpResult>): Promise<{ r: HttpResult; ms: number }> {
    const started = Date.now();
    const r = await call();
    return { r, ms: Date.now() - started };
  }

  function expectStoreUnavailable(what: string, x: { r: HttpResult; ms: number }): void {
    expect(x.r.status, `${what}: ${x.r.text}`).to.equal(503);
    expect(x.r.json?.error?.code, what).to.equal('STORE_UNAVAILABLE');
    expect(Number(x.r.headers.get('retry-after')), what).to.be.greaterThan(0);
    expect(x.r.text, what).to.not.match(/Mongo|mongo|at .*\.js/);
    expect(x.ms, `${what} took ${x.ms} ms`).to.be.below(OUTAGE_ANSWER_MS);
  }

  /** The answers every gateway must give while MongoDB is unavailable (asked all at once). */
  async function expectOutageAnswers(): Promise<void> {
    await Promise.all(
      fleet.map(async (gw) => {
        const [loggedIn, unknown, neverSeen, known, revoked] = await Promise.all([
          timed(() => login(gw)),
          timed(() => request(`${gw.url}/${unknownAppid()}`, { timeoutMs: 10_000 })),
          timed(() => tokenWith(gw, neverSeenKey())),
          timed(() => tokenWith(gw, verifiedKey)),
          timed(() => tokenWith(gw, revokedKey)),
        ]);
        expectStoreUnavailable('login', loggedIn);
        expectStoreUnavailable('unknown appid', unknown);
        expectStoreUnavailable('never-seen key', neverSeen);
        expect(known.r.status, `recently verified key: ${known.r.text}`).to.equal(200);
        expect(known.r.json.access_token).to.be.a('string');
        expect(known.ms).to.be.below(OUTAGE_ANSWER_MS);
        // The outage copy of a key is only for keys still live when MongoDB was last asked.
        expect(revoked.r.status, 'revoked key').to.be.oneOf([401, 503]);
      }),
    );
  }

  it('a key revoked through the CLI is refused on every instance within 5 s', async () => {
    for (const gw of fleet) {
      expect((await tokenWith(gw, revokedKey)).status).to.equal(200);
      expect((await tokenWith(gw, verifiedKey)).status).to.equal(200);
      expect((await login(gw)).status).to.equal(200);
    }
    const cli = await runTenantsCli(['keys', 'revoke', t.appid, revokedKey.split('_')[1]!], { MONGODB_URI: mongo.uri });
    expect(cli.code, cli.stderr).to.equal(0);
    const revokedAt = Date.now();
    await pollUntil(async () => (await Promise.all(fleet.map((gw) => tokenWith(gw, revokedKey)))).every((r) => r.status === 401), {
      withinMs: 5000,
      everyMs: 50,
      what: 'the revoked key refused by every gateway',
    });
    expect(Date.now() - revokedAt).to.be.below(5000);
  });

  it('MongoDB hung (SIGSTOP): bounded 503s, recently verified keys keep working, SIGCONT recovers without a restart', async () => {
    process.kill(mongo.pid, 'SIGSTOP');
    try {
      await expectOutageAnswers();
      // Past the key cache's normal lifetime: the outage copy answers, and still quickly.
      await sleep(5500);
      await expectOutageAnswers();
    } finally {
      resume();
    }
    for (const gw of fleet) {
      await pollUntil(async () => (await login(gw)).status === 200, { withinMs: 15_000, everyMs: 200, what: 'login after SIGCONT' });
      await pollUntil(async () => linesSaying(gw, 'mongodb restored').length === 1, { withinMs: 5000, what: 'one "mongodb restored" line' });
      expect(linesSaying(gw, 'mongodb unavailable'), 'one line for the outage, not one per request').to.have.length(1);
      expect(linesSaying(gw, 'request failed'), 'no stack per request').to.have.length(0);
      expect(gw.child.exitCode).to.equal(null);
    }
  });

  it('MongoDB killed: login, unknown appids and never-seen keys are 503 STORE_UNAVAILABLE, verified keys keep their tokens', async () => {
    await mongo.stop();
    await expectOutageAnswers();
    await sleep(5500);
    await expectOutageAnswers();
    for (const gw of fleet) {
      await pollUntil(async () => linesSaying(gw, 'mongodb unavailable').length === 2, { withinMs: 5000, what: 'a second "mongodb unavailable" line' });
      expect(linesSaying(gw, 'mongodb restored')).to.have.length(1);
      expect(linesSaying(gw, 'request failed'), 'no stack per request').to.have.length(0);
      // /readyz still names the store for the load balancer.
      const ready = await request(`${gw.url}/readyz`, { timeoutMs: 5000 });
      expect(ready.status).to.equal(503);
      expect(ready.json.checks.mongodb).to.equal('down');
    }
  });
});
