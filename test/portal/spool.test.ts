import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { buildPush, deliverPush, samplePush } from '../../src/sandbox/push-simulator';
import { TestRedis } from '../../src/devstack/redis-server';
import { Stores } from '../support/fleet';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'spool-test-secret-0123456789';
const RULES = [{ match: { msgType: 'text' }, reply: { type: 'text', content: 'got it' } }];

const spoolBytes = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

/** Issue 8 item 3: nothing accepted is lost while Redis is down, and nothing is delivered twice. */
describe('portal: the local spool while Redis is down', function () {
  this.timeout(120_000);
  let stores: Stores;
  let redis: TestRedis;
  let hook: WebhookReceiver;
  let t: TenantFixture;
  const gateways: GatewayProcess[] = [];
  const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(os.tmpdir(), 'wxgate-spool-test-')));

  before(async () => {
    stores = await Stores.open();
    redis = new TestRedis();
    await redis.start();
    hook = new WebhookReceiver(SECRET);
    await hook.start();
    t = makeTenant({ msgFormat: 'xml', rules: RULES, webhook: { url: hook.url, secret: SECRET } });
    await stores.seed(t);
    for (const dir of dirs.slice(0, 2)) gateways.push(await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, WEBHOOK_RETRY_BASE_MS: '100', LOG_LEVEL: 'warn' }));
    for (const gw of gateways) expect((await fetch(`${gw.url}/${t.appid}`)).status).to.equal(200);
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await redis.stop();
    await hook.stop();
    await stores.close();
  });

  const portal = (gw: GatewayProcess) => `${gw.url}/${t.appid}/portal`;
  const usersDelivered = () => hook.deliveries.map((d) => String(d.body.message.fromUser));

  it('answers every push while Redis is stopped, then delivers each exactly once when it returns (a retry that reached both instances once)', async () => {
    await redis.stop();
    const pushes = Array.from({ length: 20 }, (_, i) => buildPush(t, samplePush('text', { fromUser: `o-outage-${i}`, content: `m${i}` }), { format: 'xml', mode: 'safe' }));
    for (const [i, p] of pushes.entries()) {
      const [a] = await deliverPush(portal(gateways[i % 2]!), p, { retries: 0 });
      expect(a!.status, a!.body ?? a!.error).to.equal(200);
      // The rule reply is decided without Redis, encrypted like the push.
      expect(a!.body).to.contain('<Encrypt>');
    }
    // WeChat retried push 0 at the other instance: both spool it, it must be delivered once.
    const [retry] = await deliverPush(portal(gateways[1]!), pushes[0]!, { retries: 0 });
    expect(retry!.status).to.equal(200);
    expect(spoolBytes(dirs[0]!)).to.be.greaterThan(0);
    expect(spoolBytes(dirs[1]!)).to.be.greaterThan(0);

    await redis.start();
    await hook.waitFor(20, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    const users = usersDelivered().filter((u) => u.startsWith('o-outage-'));
    expect(users.length, users.join(',')).to.equal(20);
    expect(new Set(users).size).to.equal(20);
    expect(hook.deliveries.every((d) => d.signatureValid)).to.equal(true);
    for (const dir of dirs.slice(0, 2)) expect(spoolBytes(dir), `spool ${dir} not emptied`).to.equal(0);
  });

  it('a process killed with a non-empty spool: the next process on that spool drains it at start', async () => {
    const gw = await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dirs[2]!, LOG_LEVEL: 'warn' });
    expect((await fetch(`${gw.url}/${t.appid}`)).status).to.equal(200);
    await redis.stop();
    const p = buildPush(t, samplePush('text', { fromUser: 'o-crash', content: 'kept' }), { format: 'xml', mode: 'plain' });
    const [a] = await deliverPush(portal(gw), p, { retries: 0 });
    expect(a!.status).to.equal(200);
    await gw.stop('SIGKILL');
    expect(spoolBytes(dirs[2]!)).to.be.greaterThan(0);
    await redis.start();
    const next = await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dirs[2]!, LOG_LEVEL: 'warn' });
    gateways.push(next);
    const deadline = Date.now() + 15_000;
    while (!usersDelivered().includes('o-crash') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(usersDelivered().filter((u) => u === 'o-crash')).to.have.length(1);
    expect(spoolBytes(dirs[2]!)).to.equal(0);
  });

  it('a full spool answers 503 QUEUE_UNAVAILABLE with Retry-After (WeChat retries later)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxgate-spool-full-'));
    const gw = await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, SPOOL_MAX_BYTES: '4096', LOG_LEVEL: 'warn' });
    gateways.push(gw);
    expect((await fetch(`${gw.url}/${t.appid}`)).status).to.equal(200);
    await redis.stop();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const [a] = await deliverPush(portal(gw), buildPush(t, samplePush('text', { fromUser: `o-full-${i}`, content: 'x'.repeat(200) }), { format: 'xml', mode: 'safe' }), { retries: 0 });
        statuses.push(a!.status ?? 0);
      }
      expect(statuses.slice(0, 2)).to.deep.equal([200, 200]);
      expect(statuses).to.include(503);
      const full = await fetch(`${portal(gw)}?${new URLSearchParams(buildPush(t, samplePush('text', { fromUser: 'o-full-x' }), { format: 'xml', mode: 'plain' }).query).toString()}`, {
        method: 'POST',
        body: '<xml><ToUserName>x</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>',
      });
      expect(full.status).to.equal(503);
      expect(full.headers.get('retry-after')).to.match(/^\d+$/);
      expect(((await full.json()) as { error: { code: string } }).error.code).to.equal('QUEUE_UNAVAILABLE');
    } finally {
      await redis.start();
    }
  });
});
