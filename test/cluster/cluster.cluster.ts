/**
 * The gateway on a real Redis Cluster (3 masters + 3 replicas, src/devstack/redis-cluster.ts):
 * three gateway processes with REDIS_CLUSTER_NODES run the token, session, rate-limit, portal
 * (dedup, spool drain) and webhook delivery paths, and one master fails over mid-run.
 * Run by `npm run test:cluster` (not by `npm test`: starting a cluster costs seconds).
 */
import { Cluster } from 'ioredis';
import { expect } from 'chai';
import { createSandbox, type Sandbox, type SandboxServer } from '../../src/sandbox';
import { buildPush, deliverPush, samplePush, type BuiltPush } from '../../src/sandbox/push-simulator';
import { TestRedisCluster, redisCli } from '../../src/devstack/redis-cluster';
import { redisKeys } from '../../src/infra/redis-keys';
import { sessionBucket } from '../../src/auth/session-store';
import { pushSlotTag } from '../../src/portal/push-intake';
import { DEFAULT_SHARDS, shardOf, shardStream } from '../../src/delivery/webhook-keys';
import { appSecretTokenKey } from '../../src/token/sources/app-secret-token';
import { Stores } from '../support/fleet';
import { runTenantsCli, startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import { WebhookReceiver } from '../support/webhook-receiver';
import { request, type HttpResult } from '../support/http';
import { pollUntil, sleep, stopAll } from '../support/gateway-helpers';

const WEBHOOK_SECRET = 'cluster-webhook-secret-0123456789';
const RULES = [{ match: { msgType: 'text', content: 'hello' }, reply: { type: 'text', content: 'hi there' } }];

describe('Redis Cluster: three gateways on 3 masters + 3 replicas', function () {
  // The machine may be busy: generous timeouts, no wall-clock assertions.
  this.timeout(180_000);
  let cluster: TestRedisCluster;
  let admin: Cluster;
  let sandbox: Sandbox;
  let sbx: SandboxServer;
  let stores: Stores;
  let hook: WebhookReceiver;
  const fleet: GatewayProcess[] = [];

  before(async () => {
    cluster = await TestRedisCluster.start();
    admin = new Cluster(
      cluster.seeds.split(',').map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })),
      { scaleReads: 'master' },
    );
    sandbox = createSandbox();
    sbx = await sandbox.listen(0, '127.0.0.1');
    stores = await Stores.open();
    hook = new WebhookReceiver(WEBHOOK_SECRET);
    await hook.start();
    const env = {
      REDIS_CLUSTER_NODES: cluster.seeds,
      // Never the single test Redis: a gateway that ignored REDIS_CLUSTER_NODES could not start.
      REDIS_URL: 'redis://127.0.0.1:1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PASSTHROUGH: 'off',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_MAX_MS: '500',
      WEBHOOK_MAX_ATTEMPTS: '100',
    };
    for (let i = 0; i < 3; i++) fleet.push(await startGateway(env, 120_000));
  });

  after(async () => {
    await stopAll(fleet);
    admin?.disconnect();
    await hook?.stop();
    await stores?.close();
    await sbx?.close();
    await cluster?.stop();
  });

  async function tenant(overrides: Partial<TenantFixture> = {}): Promise<{ t: TenantFixture; key: string }> {
    const t = makeTenant({ apiBase: sbx.url, ...overrides });
    sandbox.registerApp({ appid: t.appid, secret: t.secret });
    await stores.seed(t);
    return { t, key: await stores.key(t.appid) };
  }

  const gw = (i: number) => fleet[i % fleet.length]!;
  const accessToken = (i: number, t: TenantFixture, key: string) => request(`${gw(i).url}/${t.appid}/access-token`, { auth: key, timeoutMs: 30_000 });
  const login = (i: number, appid: string, code: string) => request(`${gw(i).url}/${appid}/auth/login`, { method: 'POST', jsonBody: { code }, timeoutMs: 30_000 });
  const me = (i: number, appid: string, token: string) => request(`${gw(i).url}/${appid}/users/me`, { auth: token, timeoutMs: 30_000 });
  const keyslot = async (key: string) => Number(await admin.cluster('KEYSLOT', key));

  /** The port of the master serving `key`'s slot. */
  async function masterOf(key: string): Promise<number> {
    const slot = await keyslot(key);
    const topo = await cluster.topology();
    for (const n of topo) {
      if (n.role !== 'master') continue;
      for (const range of n.slots) {
        const [lo, hi] = range.split('-').map(Number) as [number, number | undefined];
        if (slot >= lo && slot <= (hi ?? lo)) return n.port;
      }
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  it('every gateway is ready: /readyz checks the cluster (state ok, every master answers)', async () => {
    for (const g of fleet) {
      const r = await request(`${g.url}/readyz`, { timeoutMs: 30_000 });
      expect(r.status, r.text).to.equal(200);
      expect(r.json.checks.redis).to.equal('ok');
    }
  });

  it('keys changed together share a slot: tenant and generation, token and its lock, user sessions and a session, push claim and its shard stream', async () => {
    const appid = 'wx0123456789abcdef';
    const tokenKey = appSecretTokenKey(appid, 'secret', 'stable');
    expect(await keyslot(redisKeys.tokenLock(tokenKey))).to.equal(await keyslot(tokenKey));
    expect(await keyslot(redisKeys.tokenReportWindow(tokenKey))).to.equal(await keyslot(tokenKey));
    expect(await keyslot(redisKeys.tenantGen(appid))).to.equal(await keyslot(redisKeys.tenant(appid)));
    const bucket = sessionBucket(appid, 'o_user');
    expect(await keyslot(redisKeys.session(bucket, 'f'.repeat(64)))).to.equal(await keyslot(redisKeys.userSessions(bucket, appid, 'o_user')));
    const tag = pushSlotTag(appid, DEFAULT_SHARDS);
    const stream = shardStream(shardOf(appid, DEFAULT_SHARDS));
    expect(await keyslot(redisKeys.pushNonce(tag, appid, '1', 'n', 's'))).to.equal(await keyslot(stream));
    expect(await keyslot(redisKeys.pushDedup(tag, 'msg:x'))).to.equal(await keyslot(stream));
  });

  it('tenant changes reach every gateway over cluster pub/sub: the CLI (on the cluster) disables, then enables a tenant', async () => {
    const { t } = await tenant();
    const statuses = async () => Promise.all(fleet.map(async (g) => (await request(`${g.url}/${t.appid}`, { timeoutMs: 30_000 })).status));
    // Every gateway holds the tenant in memory first, so only an invalidation can change the answer.
    expect(await statuses()).to.deep.equal([200, 200, 200]);
    const cliEnv = { REDIS_CLUSTER_NODES: cluster.seeds, REDIS_URL: 'redis://127.0.0.1:1' };
    const off = await runTenantsCli(['disable', t.appid], cliEnv);
    expect(off.code, off.stderr + off.stdout).to.equal(0);
    await pollUntil(async () => (await statuses()).every((s) => s === 403), { withinMs: 10_000, what: '403 on every gateway' });
    const on = await runTenantsCli(['enable', t.appid], cliEnv);
    expect(on.code, on.stderr + on.stdout).to.equal(0);
    await pollUntil(async () => (await statuses()).every((s) => s === 200), { withinMs: 10_000, what: '200 on every gateway' });
  });

  it('tokens: 300 concurrent first requests over three gateways make exactly 1 upstream token call', async () => {
    const { t, key } = await tenant();
    const res = await Promise.all(Array.from({ length: 300 }, (_, i) => accessToken(i, t, key)));
    expect(res.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
    expect(new Set(res.map((r) => r.json.access_token as string)).size).to.equal(1);
    expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(1);
  });

  it('sessions: found by token on every gateway, at most SESSION_MAX_PER_USER per user, logout {"all": true} ends them all', async () => {
    const { t } = await tenant();
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await login(i, t.appid, 'test:cluster-user');
      expect(r.status, r.text).to.equal(200);
      tokens.push(r.json.token as string);
    }
    const live = async () => Promise.all(tokens.map(async (tok, i) => (await me(i + 1, t.appid, tok)).status === 200));
    expect(await live()).to.deep.equal([false, false, ...Array.from({ length: 10 }, () => true)]);
    const out = await request(`${gw(2).url}/${t.appid}/auth/logout`, { method: 'POST', auth: tokens[11], jsonBody: { all: true }, timeoutMs: 30_000 });
    expect(out.status, out.text).to.equal(204);
    expect((await live()).filter(Boolean)).to.have.length(0);
  });

  it("rate limits: a tenant's allowance is the fleet's on the cluster (4/min over three gateways)", async () => {
    const { t } = await tenant({ limits: { login: '4/min' } });
    const rs: HttpResult[] = await Promise.all(Array.from({ length: 12 }, (_, i) => login(i, t.appid, `test:rl${i}`)));
    expect(rs.filter((r) => r.status === 200)).to.have.length(4);
    for (const r of rs.filter((x) => x.status !== 200)) {
      expect(r.status, r.text).to.equal(429);
      expect(r.json.error.code).to.equal('RATE_LIMITED');
    }
  });

  describe('pushes and webhook delivery', () => {
    let t: TenantFixture;
    before(async () => {
      t = (await tenant({ webhook: { url: hook.url, secret: WEBHOOK_SECRET }, rules: RULES })).t;
    });
    const portal = (i: number) => `${gw(i).url}/${t.appid}/portal`;
    const deliveredTo = (fromUser: string) => hook.deliveries.filter((d) => d.body.message.fromUser === fromUser);
    const push = (fromUser: string, content = 'hello'): BuiltPush => buildPush(t, samplePush('text', { fromUser, content }), { format: 'json', mode: 'safe' });

    it('the same push to three gateways at once: one webhook delivery, the same answer everywhere', async () => {
      const p = push('o-dup');
      const answers = await Promise.all([0, 1, 2].map((i) => deliverPush(portal(i), p)));
      for (const a of answers) expect(a.at(-1)!.status).to.equal(200);
      await pollUntil(async () => deliveredTo('o-dup').length >= 1, { withinMs: 30_000, what: 'the delivery of o-dup' });
      await sleep(1500);
      expect(deliveredTo('o-dup')).to.have.length(1);
      expect(deliveredTo('o-dup')[0]!.signatureValid).to.equal(true);
    });

    it('writes paused on every master: pushes are answered from the spool, then each is delivered once', async () => {
      const masters = (await cluster.topology()).filter((n) => n.role === 'master' && n.slots.length > 0).map((n) => n.port);
      // CLIENT PAUSE WRITE: the masters answer reads but hold writes, so every push script times out.
      await Promise.all(masters.map((p) => redisCli(['-p', String(p), 'client', 'pause', '6000', 'WRITE'])));
      const users = Array.from({ length: 6 }, (_, i) => `o-spool-${i}`);
      const answers = await Promise.all(users.map((u, i) => deliverPush(portal(i), push(u), { retries: 0, timeoutMs: 20_000 })));
      for (const [a] of answers) expect(a!.status, a!.body ?? a!.error).to.equal(200);
      // They were answered from the spool (the push script could not write), not from Redis.
      expect(fleet.some((g) => g.output().includes('accepting them into the local spool'))).to.equal(true);
      await pollUntil(async () => users.every((u) => deliveredTo(u).length >= 1), {
        withinMs: 60_000,
        what: 'every spooled push delivered',
        last: () => users.map((u) => `${u}:${deliveredTo(u).length}`).join(' '),
      });
      await sleep(1500);
      for (const u of users) expect(deliveredTo(u), u).to.have.length(1);
    });

    it('a master fails over mid-run: no accepted push lost, none delivered twice, one token call for the fleet', async () => {
      const { t: tokenTenant, key } = await tenant();
      // Fail over the master holding this tenant's shard stream and push claims.
      const victim = await masterOf(shardStream(shardOf(t.appid, DEFAULT_SHARDS)));
      const total = 45;
      const accepted: string[] = [];
      const refused: string[] = [];
      const tokens = new Set<string>();
      let failover: Promise<{ oldMaster: number; newMaster: number }> | undefined;
      // Three senders (one per gateway), WeChat-like retries; the failover starts a third of the way in.
      await Promise.all(
        [0, 1, 2].map(async (g) => {
          for (let i = g; i < total; i += 3) {
            if (i === 15) failover = cluster.failover(victim);
            const u = `o-fo-${i}`;
            const attempts = await deliverPush(portal(g), push(u, `m${i}`), { retries: 3, timeoutMs: 10_000 });
            (attempts.some((a) => a.status === 200) ? accepted : refused).push(u);
            const tr = await accessToken(g, tokenTenant, key);
            if (tr.status === 200) tokens.add(tr.json.access_token as string);
          }
        }),
      );
      const moved = await failover!;
      expect(moved.oldMaster).to.equal(victim);
      expect(await masterOf(shardStream(shardOf(t.appid, DEFAULT_SHARDS)))).to.equal(moved.newMaster);
      expect(refused, 'pushes WeChat would have given up on').to.deep.equal([]);
      await pollUntil(async () => accepted.every((u) => deliveredTo(u).length >= 1), {
        withinMs: 60_000,
        what: 'every accepted push delivered',
        last: () => accepted.filter((u) => deliveredTo(u).length === 0).join(' '),
      });
      await sleep(1500);
      for (const u of accepted) expect(deliveredTo(u), u).to.have.length(1);
      expect(tokens.size).to.equal(1);
      expect(sandbox.calls('/cgi-bin/stable_token', tokenTenant.appid)).to.equal(1);
      // After the failover every gateway is ready again.
      for (const g of fleet) {
        await pollUntil(async () => (await request(`${g.url}/readyz`, { timeoutMs: 10_000 })).status === 200, { withinMs: 30_000, what: `${g.url} ready` });
      }
    });
  });
});
