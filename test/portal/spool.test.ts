import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { buildPush, deliverPush, samplePush, toXml } from '../../src/sandbox/push-simulator';
import { createSandbox, type Sandbox, type SandboxServer } from '../../src/sandbox';
import { writeFileSync } from 'node:fs';
import { TestRedis } from '../../src/devstack/redis-server';
import { Stores } from '../support/fleet';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { makeTenant, type TenantFixture } from '../support/tenant-fixtures';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'spool-test-secret-0123456789';
const RULES = [{ match: { msgType: 'text' }, reply: { type: 'text', content: 'got it' } }];

/** Bytes of spooled pushes waiting in a directory (the active file and files being drained). */
const spoolBytes = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f === 'spool.jsonl' || f.endsWith('.draining'))
    .reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

/** Issue 8 item 3: nothing accepted is lost while Redis is down, and nothing is delivered twice. */
describe('portal: the local spool while Redis is down', function () {
  this.timeout(120_000);
  let stores: Stores;
  let redis: TestRedis;
  let hook: WebhookReceiver;
  let t: TenantFixture;
  let sandbox: Sandbox;
  let sbx: SandboxServer;
  const gateways: GatewayProcess[] = [];
  const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(os.tmpdir(), 'wxgate-spool-test-')));

  before(async () => {
    stores = await Stores.open();
    redis = new TestRedis();
    await redis.start();
    hook = new WebhookReceiver(SECRET);
    await hook.start();
    sandbox = createSandbox();
    sbx = await sandbox.listen(0, '127.0.0.1');
    t = makeTenant({ msgFormat: 'xml', apiBase: sbx.url, rules: RULES, webhook: { url: hook.url, secret: SECRET } });
    sandbox.registerApp({ appid: t.appid, secret: t.secret });
    await stores.seed(t);
    for (const dir of dirs.slice(0, 2)) gateways.push(await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, WEBHOOK_RETRY_BASE_MS: '100', LOG_LEVEL: 'warn' }));
    for (const gw of gateways) expect((await fetch(`${gw.url}/${t.appid}`)).status).to.equal(200);
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await redis.stop();
    await hook.stop();
    await stores.close();
    await sbx.close();
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
    gateways.push(gw);
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

  it('after the outage new pushes go to Redis directly: a reused signed query is refused again within seconds, under steady traffic', async () => {
    const gw = gateways[0]!;
    await redis.stop();
    const during = buildPush(t, samplePush('text', { fromUser: 'o-sticky', content: 'x' }), { format: 'xml', mode: 'plain' });
    expect((await deliverPush(portal(gw), during, { retries: 0 }))[0]!.status).to.equal(200);
    await redis.start();
    // Steady traffic (about 50 pushes/s) while Redis is back: the instance must leave spool mode anyway.
    let running = true;
    let n = 0;
    const load = (async () => {
      while (running) {
        await deliverPush(portal(gw), buildPush(t, samplePush('text', { fromUser: `o-steady-${n++}` }), { format: 'xml', mode: 'safe' }), { retries: 0 });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const seen: string[] = [];
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const fresh = buildPush(t, samplePush('text', { fromUser: 'o-fresh', content: 'y' }), { format: 'xml', mode: 'plain' });
      expect((await deliverPush(portal(gw), fresh, { retries: 0 }))[0]!.status).to.equal(200);
      const forged = { ...fresh, body: toXml(samplePush('text', { fromUser: 'o-forger', content: 'forged' })) };
      const deadline = Date.now() + 10_000;
      let refused = false;
      while (!refused && Date.now() < deadline) {
        const [a] = await deliverPush(portal(gw), forged, { retries: 0 });
        seen.push(String(a!.status ?? a!.error));
        refused = a!.status === 401;
        if (!refused) await new Promise((r) => setTimeout(r, 200));
      }
      expect(refused, `a forged reuse of a signed query was not refused with Redis back: ${seen.join(' ')}\n${gw.output().slice(-3000)}`).to.equal(true);
    } finally {
      running = false;
      await load;
    }
    expect(n).to.be.greaterThan(20);
  });

  it("a rule's customer message is sent once for a spooled push, not for its retries or a forged reuse of its signed query", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxgate-spool-cm-'));
    const cm = makeTenant({
      msgFormat: 'xml',
      apiBase: sbx.url,
      rules: [{ match: { msgType: 'text' }, customerMessage: { msgtype: 'text', text: { content: 'thanks' } } }],
      webhook: { url: hook.url, secret: SECRET },
    });
    sandbox.registerApp({ appid: cm.appid, secret: cm.secret });
    await stores.seed(cm);
    const gw = await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, LOG_LEVEL: 'warn' });
    gateways.push(gw);
    expect((await fetch(`${gw.url}/${cm.appid}`)).status).to.equal(200);
    const url = `${gw.url}/${cm.appid}/portal`;
    // A token first, so the drain's customer message does not wait for a fetch.
    const p = buildPush(cm, samplePush('text', { fromUser: 'o-victim', content: 'hi' }), { format: 'xml', mode: 'plain' });
    await redis.stop();
    for (let i = 0; i < 3; i++) expect((await deliverPush(url, p, { retries: 0 }))[0]!.status).to.equal(200);
    const forged = { ...p, body: toXml(samplePush('text', { fromUser: 'o-attacker', content: 'x' })) };
    expect((await deliverPush(url, forged, { retries: 0 }))[0]!.status).to.equal(200);
    // Nothing is sent while the push is only spooled.
    await new Promise((r) => setTimeout(r, 500));
    const sentTo = () => sandbox.sentMessages('custom').map((m) => (m.body as { touser?: string }).touser);
    expect(sentTo()).to.not.include('o-victim');
    await redis.start();
    const deadline = Date.now() + 15_000;
    while (!sentTo().includes('o-victim') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    expect(sentTo().filter((u) => u === 'o-victim')).to.have.length(1);
    expect(sentTo()).to.not.include('o-attacker');
  });

  it('a record the gateway cannot read is set aside (spool.bad.jsonl) and the rest is drained; a second instance on the same SPOOL_DIR is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxgate-spool-bad-'));
    const gw = await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, LOG_LEVEL: 'warn' });
    gateways.push(gw);
    expect((await fetch(`${gw.url}/${t.appid}`)).status).to.equal(200);
    // Another instance pointed at the same directory must not start.
    let refused = '';
    await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, LOG_LEVEL: 'warn' }).then(
      (g) => gateways.push(g),
      (err: Error) => (refused = err.message),
    );
    expect(refused, refused).to.match(/in use by another running instance/);
    await redis.stop();
    const p = buildPush(t, samplePush('text', { fromUser: 'o-after-bad', content: 'ok' }), { format: 'xml', mode: 'safe' });
    expect((await deliverPush(portal(gw), p, { retries: 0 }))[0]!.status).to.equal(200);
    await gw.stop('SIGKILL');
    // A record of another version (or a manual edit) in front of a good one.
    const active = path.join(dir, 'spool.jsonl');
    writeFileSync(active, '{"not":"a claim"}\n' + readFileSync(active, 'utf8'));
    await redis.start();
    const next = await startGateway({ REDIS_URL: redis.url, SPOOL_DIR: dir, LOG_LEVEL: 'warn' });
    gateways.push(next);
    const deadline = Date.now() + 15_000;
    while (!usersDelivered().includes('o-after-bad') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(usersDelivered()).to.include('o-after-bad');
    expect(readFileSync(path.join(dir, 'spool.bad.jsonl'), 'utf8')).to.equal('{"not":"a claim"}\n');
  });
});
