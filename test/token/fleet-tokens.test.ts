import http from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import Redis from 'ioredis';
import { expect } from 'chai';
import { createSandbox, type Sandbox, type SandboxServer } from '../../src/sandbox';
import { Stores, startFleet, stopFleet } from '../support/fleet';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import { TestRedis } from '../../src/devstack/redis-server';
import type { GatewayProcess } from '../support/gateway-process';
import { redisKeys } from '../../src/infra/redis-keys';
import { appSecretTokenKey } from '../../src/token/sources/app-secret-token';

const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
const client: AxiosInstance = axios.create({ httpAgent: agent, validateStatus: () => true, proxy: false, timeout: 20000 });

describe('access tokens across a fleet of gateway processes', function () {
  this.timeout(90_000);
  let sandbox: Sandbox;
  let sbx: SandboxServer;
  let stores: Stores;

  before(async () => {
    sandbox = createSandbox();
    sbx = await sandbox.listen(0, '127.0.0.1');
    stores = await Stores.open();
  });
  after(async () => {
    await stores.close();
    await sbx.close();
    agent.destroy();
  });

  async function tenantWithKey(overrides: Partial<TenantFixture> = {}): Promise<{ t: TenantFixture; key: string }> {
    const t = makeTenant({ apiBase: sbx.url, ...overrides });
    sandbox.registerApp({ appid: t.appid, secret: t.secret });
    await stores.seed(t);
    return { t, key: await stores.key(t.appid) };
  }

  const urllink = (gw: GatewayProcess, t: TenantFixture, key: string) =>
    client.post(`${gw.url}/${t.appid}/wxapi/wxa/generate_urllink`, { path: 'pages/index/index' }, { headers: { authorization: `Bearer ${key}` } });

  describe('with three gateways', () => {
    let fleet: GatewayProcess[];
    before(async () => {
      // 900 passthrough calls of one tenant in a few seconds: this suite is about tokens, not rate limits.
      fleet = await startFleet(3, { RATE_LIMIT_PASSTHROUGH: 'off' });
    });
    after(async () => stopFleet(fleet));

    it('1000 concurrent first requests for one tenant make exactly 1 token call', async () => {
      const { t, key } = await tenantWithKey();
      const res = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => client.get<{ access_token: string }>(`${fleet[i % 3]!.url}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${key}` } })),
      );
      expect(res.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
      expect(new Set(res.map((r) => r.data.access_token)).size).to.equal(1);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(1);
      expect(sandbox.calls('/cgi-bin/token', t.appid)).to.equal(0);
    });

    it('classic mode: 1000 concurrent first requests also make exactly 1 call to /cgi-bin/token', async () => {
      const { t, key } = await tenantWithKey({ tokenMode: 'classic' });
      const res = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => client.get<{ access_token: string }>(`${fleet[i % 3]!.url}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${key}` } })),
      );
      expect(res.every((r) => r.status === 200)).to.equal(true);
      expect(sandbox.calls('/cgi-bin/token', t.appid)).to.equal(1);
    });

    it('a token revoked mid-run: in-flight and later requests succeed, the fleet makes exactly 1 new token call', async () => {
      const { t, key } = await tenantWithKey();
      const first = await urllink(fleet[0]!, t, key);
      expect(first.status).to.equal(200);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(1);
      const statuses: number[] = [];
      let revoked = false;
      const workers = fleet.map(async (gw, w) => {
        for (let i = 0; i < 60; i++) {
          if (w === 0 && i === 20) {
            sandbox.revokeToken(t.appid);
            revoked = true;
          }
          const batch = await Promise.all(Array.from({ length: 5 }, () => urllink(gw, t, key)));
          for (const r of batch) {
            statuses.push(r.status);
            if (r.status !== 200 || r.data.errcode !== 0) throw new Error(`request failed: ${r.status} ${JSON.stringify(r.data)}`);
          }
        }
      });
      await Promise.all(workers);
      expect(revoked).to.equal(true);
      expect(statuses).to.have.length(900);
      // At least one request met the dead token (so the test exercised the invalidation path)...
      expect(sandbox.calls('/wxa/generate_urllink', t.appid)).to.be.greaterThan(901);
      // ...and the whole fleet replaced it with exactly one token call.
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);
    });

    it('tokens are sealed in Redis: the stored value does not contain the token, and every gateway opens it', async () => {
      const { t, key } = await tenantWithKey();
      const auth = { headers: { authorization: `Bearer ${key}` } };
      const first = await client.get<{ access_token: string }>(`${fleet[0]!.url}/${t.appid}/access-token`, auth);
      expect(first.status).to.equal(200);
      const redis = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: 1 });
      try {
        const keys = await redis.keys(`wxgate:token:${t.appid}:*`);
        expect(keys).to.have.length(1);
        const raw = (await redis.get(keys[0]!)) ?? '';
        expect(raw).to.not.include(first.data.access_token);
        expect(raw).to.match(/"sealed":"v2\./);
      } finally {
        redis.disconnect();
      }
      // The other gateways never saw this tenant: they open the fleet's copy instead of fetching.
      for (const gw of fleet.slice(1)) {
        const r = await client.get<{ access_token: string }>(`${gw.url}/${t.appid}/access-token`, auth);
        expect(r.data.access_token).to.equal(first.data.access_token);
      }
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(1);
    });

    it('-1 twice then success: the caller sees success', async () => {
      const { t, key } = await tenantWithKey();
      expect((await urllink(fleet[0]!, t, key)).status).to.equal(200);
      sandbox.injectFault({ endpoint: '/wxa/generate_urllink', appid: t.appid, errcode: -1, times: 2 });
      const before = sandbox.calls('/wxa/generate_urllink', t.appid);
      const started = Date.now();
      const r = await urllink(fleet[1]!, t, key);
      expect(r.status).to.equal(200);
      expect(r.data.errcode).to.equal(0);
      expect(r.data.url_link).to.match(/^https:\/\/wxaurl\.cn\//);
      expect(sandbox.calls('/wxa/generate_urllink', t.appid) - before).to.equal(3);
      expect(Date.now() - started).to.be.lessThan(2000);
    });

    it("-1 three times: two retries only, then WeChat's answer is returned", async () => {
      const { t, key } = await tenantWithKey();
      expect((await urllink(fleet[0]!, t, key)).status).to.equal(200);
      sandbox.injectFault({ endpoint: '/wxa/generate_urllink', appid: t.appid, errcode: -1, times: 3 });
      const before = sandbox.calls('/wxa/generate_urllink', t.appid);
      const r = await urllink(fleet[0]!, t, key);
      expect(r.data.errcode).to.equal(-1);
      expect(sandbox.calls('/wxa/generate_urllink', t.appid) - before).to.equal(3);
    });

    it('45009: 429 WECHAT_QUOTA_EXCEEDED with Retry-After, and no further upstream calls during the cool-down', async () => {
      const { t, key } = await tenantWithKey();
      expect((await urllink(fleet[0]!, t, key)).status).to.equal(200);
      sandbox.injectFault({ endpoint: '/wxa/generate_urllink', appid: t.appid, errcode: 45009, times: 1 });
      const before = sandbox.calls('/wxa/generate_urllink', t.appid);
      const r = await urllink(fleet[0]!, t, key);
      expect(r.status).to.equal(429);
      expect(r.data.error.code).to.equal('WECHAT_QUOTA_EXCEEDED');
      expect(Number(r.headers['retry-after'])).to.be.greaterThan(0);
      // Every instance learns the cool-down; none calls the API again.
      await new Promise((res) => setTimeout(res, 200));
      for (const gw of fleet) {
        const again = await urllink(gw, t, key);
        expect(again.status).to.equal(429);
        expect(again.data.error.code).to.equal('WECHAT_QUOTA_EXCEEDED');
      }
      expect(sandbox.calls('/wxa/generate_urllink', t.appid) - before).to.equal(1);
      // Other APIs of the tenant are not affected.
      const other = await client.post(`${fleet[0]!.url}/${t.appid}/wxapi/wxa/generatescheme`, {}, { headers: { authorization: `Bearer ${key}` } });
      expect(other.status).to.equal(200);
      expect(other.data.errcode).to.equal(0);
    });

    it('45011: 429 WECHAT_RATE_LIMITED', async () => {
      const { t, key } = await tenantWithKey();
      sandbox.injectFault({ endpoint: '/wxa/generatescheme', appid: t.appid, errcode: 45011, times: 1 });
      const r = await client.post(`${fleet[2]!.url}/${t.appid}/wxapi/wxa/generatescheme`, {}, { headers: { authorization: `Bearer ${key}` } });
      expect(r.status).to.equal(429);
      expect(r.data.error.code).to.equal('WECHAT_RATE_LIMITED');
      expect(r.headers['retry-after']).to.equal('60');
    });

    it('a misconfigured tenant (wrong secret) gets TENANT_MISCONFIGURED, without a retry loop', async () => {
      const t = makeTenant({ apiBase: sbx.url });
      sandbox.registerApp({ appid: t.appid, secret: 'ffffffffffffffffffffffffffffffff' });
      await stores.seed(t);
      const key = await stores.key(t.appid);
      const r = await client.get(`${fleet[0]!.url}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${key}` } });
      expect(r.status).to.equal(502);
      expect(r.data.error.code).to.equal('TENANT_MISCONFIGURED');
      expect(r.data.error.message).to.contain(t.appid).and.to.contain('40125');
      expect(JSON.stringify(r.data)).not.to.contain(t.secret);
      await client.get(`${fleet[0]!.url}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${key}` } });
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(1);
    });

    it('service keys are isolated between tenants', async () => {
      const a = await tenantWithKey();
      const b = await tenantWithKey();
      const ok = await client.get(`${fleet[0]!.url}/${a.t.appid}/access-token`, { headers: { authorization: `Bearer ${a.key}` } });
      expect(ok.status).to.equal(200);
      for (const url of [`/${b.t.appid}/access-token`, `/${b.t.appid}/wxapi/wxa/generatescheme`]) {
        const r = await client.request({ url: fleet[1]!.url + url, method: url.includes('wxapi') ? 'POST' : 'GET', headers: { authorization: `Bearer ${a.key}` } });
        expect(r.status).to.equal(401);
        expect(r.data.error.code).to.equal('INVALID_API_KEY');
      }
      for (const sneaky of ['/cgi-bin/./token', '/cgi-bin/../cgi-bin/stable_token', '//example.invalid/x', '/CGI-BIN/TOKEN']) {
        const r = await client.post(`${fleet[0]!.url}/${a.t.appid}/wxapi${sneaky}`, {}, { headers: { authorization: `Bearer ${a.key}` } });
        expect(r.status, sneaky).to.be.oneOf([400, 403, 404]);
        expect(r.data.error.code, sneaky).to.be.oneOf(['INVALID_API_PATH', 'PASSTHROUGH_FORBIDDEN', 'NOT_FOUND']);
      }
      expect(sandbox.calls('/cgi-bin/token', a.t.appid)).to.equal(0);
      const none = await client.get(`${fleet[1]!.url}/${b.t.appid}/access-token`);
      expect(none.status).to.equal(401);
      expect(none.data.error.code).to.equal('UNAUTHENTICATED');
      const forged = await client.get(`${fleet[1]!.url}/${b.t.appid}/access-token`, { headers: { authorization: `Bearer ${b.key.slice(0, -2)}xx` } });
      expect(forged.status).to.equal(401);
      await stores.keys.revoke(b.t.appid, b.key.split('_')[1]!);
      await new Promise((res) => setTimeout(res, 5200));
      const revoked = await client.get(`${fleet[2]!.url}/${b.t.appid}/access-token`, { headers: { authorization: `Bearer ${b.key}` } });
      expect(revoked.status).to.equal(401);
    });

    it('passthrough carries binary bodies intact both ways (media upload, then download)', async () => {
      const { t, key } = await tenantWithKey();
      const bytes = Buffer.alloc(300_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
      const form = new FormData();
      form.append('media', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
      const up = await fetch(`${fleet[0]!.url}/${t.appid}/wxapi/cgi-bin/media/upload?type=image`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
      const upBody = (await up.json()) as { media_id?: string };
      expect(up.status).to.equal(200);
      expect(upBody.media_id).to.be.a('string');
      const down = await fetch(`${fleet[1]!.url}/${t.appid}/wxapi/cgi-bin/media/get?media_id=${upBody.media_id}`, { headers: { authorization: `Bearer ${key}` } });
      expect(down.status).to.equal(200);
      expect(down.headers.get('content-type')).to.match(/^image\//);
      expect(Buffer.from(await down.arrayBuffer()).equals(bytes)).to.equal(true);
      const png = await client.post(
        `${fleet[2]!.url}/${t.appid}/wxapi/wxa/getwxacodeunlimit`,
        { scene: 'a=1' },
        { headers: { authorization: `Bearer ${key}` }, responseType: 'arraybuffer' },
      );
      expect(png.headers['content-type']).to.equal('image/png');
      expect(
        Buffer.from(png.data as ArrayBuffer)
          .subarray(0, 8)
          .toString('hex'),
      ).to.equal('89504e470d0a1a0a');
    });

    it('the central token endpoint: invalidate with the token that failed gives the fleet a new one, once', async () => {
      const { t, key } = await tenantWithKey();
      const auth = { headers: { authorization: `Bearer ${key}` } };
      const got = await client.get<{ access_token: string; expires_in: number }>(`${fleet[0]!.url}/${t.appid}/access-token`, auth);
      expect(got.data.expires_in).to.be.within(6800, 6900);
      sandbox.revokeToken(t.appid);
      const results = await Promise.all(
        fleet.map((gw) => client.post<{ access_token: string }>(`${gw.url}/${t.appid}/access-token/invalidate`, { access_token: got.data.access_token }, auth)),
      );
      expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200]);
      const fresh = new Set(results.map((r) => r.data.access_token));
      expect(fresh.size).to.equal(1);
      expect(fresh.has(got.data.access_token)).to.equal(false);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);
      // A stale report (a token that is no longer the fleet's) does not cause another fetch.
      const stale = await client.post(`${fleet[1]!.url}/${t.appid}/access-token/invalidate`, { access_token: got.data.access_token }, auth);
      expect(stale.status).to.equal(200);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);
      const bad = await client.post(`${fleet[1]!.url}/${t.appid}/access-token/invalidate`, { nope: 1 }, auth);
      expect(bad.status).to.equal(400);
      expect(bad.data.error.code).to.equal('INVALID_BODY');
    });
  });

  describe('reports to the central invalidate endpoint, on two gateways', () => {
    let fleet: GatewayProcess[];
    let redis: Redis;
    before(async () => {
      fleet = await startFleet(2);
      redis = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: 1 });
    });
    after(async () => {
      redis.disconnect();
      await stopFleet(fleet);
    });

    it('5 reports of the same token within 10 s make 1 upstream token call, and all get the token it returned', async () => {
      const { t, key } = await tenantWithKey();
      const auth = { headers: { authorization: `Bearer ${key}` } };
      const report = (gw: GatewayProcess, token: string) => client.post<{ access_token: string }>(`${gw.url}/${t.appid}/access-token/invalidate`, { access_token: token }, auth);
      const old = (await client.get<{ access_token: string }>(`${fleet[0]!.url}/${t.appid}/access-token`, auth)).data.access_token;
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(1);
      // WeChat still accepts `old`, so stable_token hands it back unchanged: without the window every
      // report would find the fleet's token still "failed" and fetch again.
      const concurrent = await Promise.all(Array.from({ length: 5 }, (_, i) => report(fleet[i % 2]!, old)));
      expect(concurrent.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(new Set(concurrent.map((r) => r.data.access_token))).to.deep.equal(new Set([old]));
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);
      const sequential: string[] = [];
      for (let i = 0; i < 5; i++) sequential.push((await report(fleet[i % 2]!, old)).data.access_token);
      expect(sequential).to.deep.equal([old, old, old, old, old]);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);

      // The window is the fleet's, in Redis: once it is over, a report fetches again.
      await redis.del(redisKeys.tokenReportWindow(appSecretTokenKey(t.appid, t.secret, 'stable')));
      sandbox.revokeToken(t.appid);
      const renewed = await Promise.all(Array.from({ length: 5 }, (_, i) => report(fleet[i % 2]!, old)));
      const fresh = renewed[0]!.data.access_token;
      expect(fresh).to.not.equal(old);
      expect(renewed.map((r) => r.data.access_token)).to.deep.equal([fresh, fresh, fresh, fresh, fresh]);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(3);
      // And the token the window's fetch returned is what WeChat accepts.
      expect((await urllink(fleet[1]!, t, key)).data.errcode).to.equal(0);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(3);
    });

    it('a stale report (the fleet already moved on) fetches nothing and does not hold the window', async () => {
      const { t, key } = await tenantWithKey();
      const auth = { headers: { authorization: `Bearer ${key}` } };
      const old = (await client.get<{ access_token: string }>(`${fleet[0]!.url}/${t.appid}/access-token`, auth)).data.access_token;
      sandbox.revokeToken(t.appid);
      // A gateway call meets the dead token and renews it through the internal (not rate-limited) path.
      expect((await urllink(fleet[0]!, t, key)).data.errcode).to.equal(0);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);
      const stale = await client.post<{ access_token: string }>(`${fleet[1]!.url}/${t.appid}/access-token/invalidate`, { access_token: old }, auth);
      expect(stale.data.access_token).to.not.equal(old);
      expect(sandbox.calls('/cgi-bin/stable_token', t.appid)).to.equal(2);
      expect(await redis.exists(redisKeys.tokenReportWindow(appSecretTokenKey(t.appid, t.secret, 'stable')))).to.equal(0);
    });
  });

  describe('with Redis stopped for 10 s under load', () => {
    let redis: TestRedis;
    let fleet: GatewayProcess[];
    before(async () => {
      redis = new TestRedis();
      await redis.start();
      fleet = await startFleet(2, { REDIS_URL: redis.url });
    });
    after(async () => {
      await stopFleet(fleet);
      await redis.stop();
    });

    it('requests keep succeeding, and after Redis returns the fleet converges on one token', async () => {
      const { t, key } = await tenantWithKey();
      const auth = { headers: { authorization: `Bearer ${key}` } };
      for (const gw of fleet) expect((await urllink(gw, t, key)).status).to.equal(200);
      let failures = 0;
      let total = 0;
      let stop = false;
      const load = Promise.all(
        fleet.map(async (gw) => {
          while (!stop) {
            const r = await urllink(gw, t, key);
            total++;
            if (r.status !== 200 || r.data.errcode !== 0) failures++;
            await new Promise((res) => setTimeout(res, 20));
          }
        }),
      );
      await new Promise((res) => setTimeout(res, 500));
      await redis.stop();
      const totalAtStop = total;
      await new Promise((res) => setTimeout(res, 10_000));
      const duringOutage = total - totalAtStop;
      await redis.start();
      await new Promise((res) => setTimeout(res, 2000));
      stop = true;
      await load;
      expect(failures).to.equal(0);
      expect(duringOutage).to.be.greaterThan(100);
      const tokens = await Promise.all(fleet.map((gw) => client.get<{ access_token: string }>(`${gw.url}/${t.appid}/access-token`, auth)));
      expect(tokens.map((r) => r.status)).to.deep.equal([200, 200]);
      expect(new Set(tokens.map((r) => r.data.access_token)).size).to.equal(1);
      for (const gw of fleet) expect(gw.child.exitCode).to.equal(null);
    });
  });
});
