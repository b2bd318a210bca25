import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis } from '../../src/infra/redis';
import { InvalidationBus } from '../../src/cache/invalidation-bus';
import { SecretBox } from '../../src/tenancy/secret-box';
import type { Tenant } from '../../src/tenancy/tenant';
import { WeChatHttp } from '../../src/transport/wechat-http';
import { TokenManager } from '../../src/token/token-manager';
import { TenantTokens } from '../../src/token/tenant-tokens';
import { appSecretSources } from '../../src/token/sources/app-secret-token';
import { Cooldowns } from '../../src/transport/cooldowns';
import { Platforms } from '../../src/platforms/platforms';
import { createSandbox, type Sandbox, type SandboxServer } from '../../src/sandbox';
import { Stores } from '../support/fleet';
import { TEST_SECRETS_KEY } from '../support/gateway-process';

const hex = (n: number) => randomBytes(n).toString('hex');
const T0 = Date.UTC(2026, 0, 1);
const DAY_S = 86_400;
const STEP_S = 60;
const AUTHORIZERS = 1000;

interface Instance {
  tokens: TenantTokens;
  close(): Promise<void>;
}

describe('third-party platform: 1 000 authorized mini programs for a simulated day, two instances', function () {
  this.timeout(300_000);
  const clock = new ManualClock(T0);
  let sandbox: Sandbox;
  let sbx: SandboxServer;
  let stores: Stores;
  const instances: Instance[] = [];
  const componentAppid = 'wx' + hex(8);
  const platform = { componentAppid, name: 'Day platform', secret: hex(16), token: 'dayToken1', aesKey: randomBytes(32).toString('base64').slice(0, 43) };

  async function instance(): Promise<Instance & { platforms: Platforms }> {
    const log = createLogger('silent');
    const url = process.env.REDIS_URL ?? '';
    const redis = createRedis(url, log);
    const sub = createRedis(url, log, 'sub');
    await Promise.all([connectRedis(redis), connectRedis(sub)]);
    const bus = new InvalidationBus(redis, sub, log);
    await bus.start();
    const box = new SecretBox(TEST_SECRETS_KEY);
    const http = new WeChatHttp(5000, { allowPrivateAddresses: true });
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const manager = new TokenManager({ redis, box, bus, clock, log, sleep, pollMs: 5 });
    const tokens = new TenantTokens(manager, appSecretSources({ http, cooldowns: new Cooldowns(clock, bus, 300, 60), defaultApiBase: sbx.url, sleep }));
    const platforms = new Platforms({ mongo: stores.conn, redis, box, bus, clock, log, http, tokens: manager, defaultApiBase: sbx.url, sleep });
    tokens.register(
      'authorizer',
      'authorizer',
      (t) => platforms.authorizerSource(t),
      (t) => platforms.authorizerLogin(t),
    );
    return {
      tokens,
      platforms,
      close: async () => {
        manager.close();
        sub.disconnect();
        redis.disconnect();
      },
    };
  }

  before(async () => {
    sandbox = createSandbox({ clock });
    sbx = await sandbox.listen(0, '127.0.0.1');
    stores = await Stores.open();
    sandbox.platform.registerPlatform(platform);
  });
  after(async () => {
    for (const i of instances) await i.close();
    sandbox.platform.close();
    await sbx.close();
    await stores.close();
  });

  it('one renewal per token per refresh window for the fleet, no stampede, no failed request', async () => {
    const a = await instance();
    const b = await instance();
    instances.push(a, b);
    await a.platforms.store.upsert({ ...platform, apiBase: sbx.url });
    const newTicket = async () => {
      await sandbox.platform.sendTicket(componentAppid);
      await a.platforms.tickets.save(componentAppid, sandbox.platform.currentTicket(componentAppid) as string, new Date(clock.now()));
    };
    await newTicket();
    const p = (await a.platforms.directory.find(componentAppid))!;

    // 1 000 mini programs authorize the platform.
    const tenants: Tenant[] = [];
    for (let i = 0; i < AUTHORIZERS; i++) {
      const appid = 'wx' + hex(8);
      const { preAuthCode } = await a.platforms.api.preAuthCode(p);
      await sandbox.platform.authorize({ componentAppid, preAuthCode, authorizerAppid: appid });
      tenants.push({
        appid,
        name: appid,
        status: 'active',
        credential: 'authorizer',
        component: componentAppid,
        tokenMode: 'authorizer',
        apiBase: sbx.url,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
    }
    for (const v of sandbox.platform.authorizers(componentAppid)) await a.platforms.store.authorize(componentAppid, v.authorizerAppid, v.refreshToken, v.funcIds, new Date(clock.now()));
    sandbox.resetCalls();

    let failures = 0;
    let requests = 0;
    const settle = async () => {
      // Renewals started by the scan run in the background: let them finish before time moves on.
      let last = -1;
      for (let i = 0; i < 800; i++) {
        await new Promise((r) => setTimeout(r, 5));
        const now = sandbox.calls('/cgi-bin/component/api_authorizer_token') + sandbox.calls('/cgi-bin/component/api_component_token');
        if (now === last) return;
        last = now;
      }
    };
    for (let t = 0; t < DAY_S; t += STEP_S) {
      if (t % 600 === 0) await newTicket();
      // Traffic: a few tenants per minute on each instance, every tenant several times a day.
      const batch = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) => {
          const inst = i % 2 === 0 ? a : b;
          return inst.tokens.get(tenants[((t / STEP_S) * 12 + Math.floor(i / 2)) % AUTHORIZERS]!);
        }),
      );
      requests += batch.length;
      failures += batch.filter((r) => r.status === 'rejected').length;
      // The periodic scan of each instance renews what it holds and is due.
      a.tokens.refreshDue(tenants);
      b.tokens.refreshDue(tenants);
      await settle();
      clock.advance(STEP_S * 1000);
    }

    const perToken = tenants.map((t) => sandbox.calls('/cgi-bin/component/api_authorizer_token', t.appid));
    const windows = Math.ceil(DAY_S / (7200 - 300)) + 1;
    const total = perToken.reduce((s, n) => s + n, 0);
    const component = sandbox.calls('/cgi-bin/component/api_component_token');
    process.stdout.write(
      `      ${requests} token reads, ${failures} failed; api_authorizer_token ${total} in all (max ${Math.max(...perToken)} per token, limit ${windows}); api_component_token ${component}\n`,
    );
    expect(failures).to.equal(0);
    expect(Math.max(...perToken), 'renewals of one authorizer token in a day').to.be.at.most(windows);
    expect(component, 'component token fetches in a day').to.be.at.most(windows);
    expect(total).to.be.at.least(AUTHORIZERS);
  });
});
