import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import type { Tenant } from '../../src/tenancy/tenant';
import { WebhookWorker, deliveryBody, retryDelayMs } from '../../src/delivery/webhook-worker';
import { DEFAULT_SHARDS, GROUP, tenantKeys, toFields } from '../../src/delivery/webhook-keys';
import { WebhookAdmin } from '../../src/delivery/webhook-admin';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'worker-test-secret-0123456789';
const DAY_MS = 86_400_000;

function tenantFor(appid: string, url: string): Tenant {
  return {
    appid,
    name: 't',
    status: 'active',
    credential: 'appsecret',
    secret: 's',
    tokenMode: 'stable',
    webhook: { url, secret: SECRET },
    createdAt: new Date(),
    updatedAt: new Date(),
  } as Tenant;
}

const keysOf = (appid: string) => tenantKeys(appid, DEFAULT_SHARDS);

/** A tenant's scheduled retries (member, due time): its shard's schedule holds other tenants' too. */
async function retriesOf(redis: Redis, appid: string): Promise<[string, string][]> {
  const flat = await redis.zrange(keysOf(appid).retries, 0, -1, 'WITHSCORES');
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if ((JSON.parse(flat[i]!) as { appid: string }).appid === appid) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

async function until(what: string, probe: () => Promise<boolean>, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('delivery: webhook worker', () => {
  describe('pure parts', () => {
    it('backs off exponentially from the base, capped at the maximum, with at most ±20 % jitter', () => {
      expect(retryDelayMs(1, 1000, 60_000, () => 0.5)).to.equal(1000);
      expect(retryDelayMs(2, 1000, 60_000, () => 0.5)).to.equal(2000);
      expect(retryDelayMs(4, 1000, 60_000, () => 0.5)).to.equal(8000);
      expect(retryDelayMs(20, 1000, 60_000, () => 0.5)).to.equal(60_000);
      expect(retryDelayMs(1, 1000, 60_000, () => 0)).to.equal(800);
      expect(retryDelayMs(1, 1000, 60_000, () => 0.999999)).to.equal(1200);
    });

    it('embeds the queued message JSON as it was stored, with id, appid and attempt', () => {
      const body = deliveryBody({ deliveryId: 'd1', appid: 'wx0123456789abcdef', message: '{"msgType":"text","content":"hi \\"x\\""}', attempts: 0, receivedAt: 1 }, 3);
      expect(JSON.parse(body)).to.deep.equal({ deliveryId: 'd1', appid: 'wx0123456789abcdef', attempt: 3, message: { msgType: 'text', content: 'hi "x"' } });
    });
  });

  describe('on a manual clock (real Redis, a real webhook receiver)', function () {
    this.timeout(30_000);
    const log = createLogger('silent');
    let redis: Redis;
    let blocking: Redis;
    let hook: WebhookReceiver;
    let worker: WebhookWorker;
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const appid = 'wx' + randomBytes(8).toString('hex');

    before(async () => {
      redis = createRedis(process.env.REDIS_URL ?? '', log, 'worker-test');
      blocking = createRedis(process.env.REDIS_URL ?? '', log, 'worker-test-blocking', { commandTimeoutMs: 10_000 });
      await Promise.all([connectRedis(redis), connectRedis(blocking)]);
      hook = new WebhookReceiver(SECRET);
      await hook.start();
      const tenant = {
        appid,
        name: 't',
        status: 'active',
        credential: 'appsecret',
        secret: 's',
        tokenMode: 'stable',
        webhook: { url: hook.url, secret: SECRET },
        createdAt: new Date(),
        updatedAt: new Date(),
      } as Tenant;
      worker = new WebhookWorker({
        redis,
        blocking,
        resolveTenant: async (a) => (a === appid ? tenant : null),
        log,
        clock,
        maxAttempts: 5,
        timeoutMs: 2000,
        retryBaseMs: 10_000,
        retryMaxMs: 60_000,
        allowPrivateAddresses: true,
      });
      worker.start();
    });

    after(async () => {
      await worker.stop();
      for (const [member] of await retriesOf(redis, appid)) await redis.zrem(keysOf(appid).retries, member);
      redis.disconnect();
      await hook.stop();
    });

    it('schedules a failed delivery by the clock and sends it again only once the clock passes that time', async () => {
      hook.down = true;
      const queuedAt = clock.now();
      await redis.xadd(keysOf(appid).stream, '*', ...toFields({ deliveryId: 'd-clock', appid, message: '{"n":1}', attempts: 0, receivedAt: queuedAt }));

      const deadline = Date.now() + 10_000;
      let scheduled: [string, string] | undefined;
      while (Date.now() < deadline) {
        const r = await retriesOf(redis, appid);
        if (r.length === 1) {
          scheduled = r[0];
          break;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(scheduled, 'the failed delivery was not scheduled for a retry').to.not.equal(undefined);
      expect(hook.refused).to.equal(1);
      // Due 10 s (±20 %) after the failure, on the injected clock, not on the wall clock.
      const due = Number(scheduled![1]);
      expect(due - queuedAt).to.be.within(8000, 12_000);

      // The wall clock moves, the manual clock does not: nothing is due, nothing is sent.
      await new Promise((res) => setTimeout(res, 1500));
      expect(hook.refused).to.equal(1);
      expect(await retriesOf(redis, appid)).to.have.length(1);

      hook.down = false;
      clock.advance(12_001);
      await hook.waitFor(1, 10_000);
      const d = hook.deliveries[0]!;
      expect(d.deliveryId).to.equal('d-clock');
      expect(d.attempt).to.equal(2);
      expect(d.signatureValid).to.equal(true);
      expect(d.body.message).to.deep.equal({ n: 1 });
      expect(await retriesOf(redis, appid)).to.have.length(0);
    });
  });
  describe('after a crash, and over days (real Redis, a real webhook receiver)', function () {
    this.timeout(30_000);
    const log = createLogger('silent');
    let redis: Redis;
    let blocking: Redis;
    let hook: WebhookReceiver;
    const workers: WebhookWorker[] = [];
    const appids: string[] = [];

    const newAppid = () => {
      const appid = 'wx' + randomBytes(8).toString('hex');
      appids.push(appid);
      return appid;
    };
    const newWorker = (appid: string, clock: ManualClock, extra: Partial<ConstructorParameters<typeof WebhookWorker>[0]> = {}) => {
      const w = new WebhookWorker({
        redis,
        blocking,
        resolveTenant: async (a) => (a === appid ? tenantFor(appid, hook.url) : null),
        log,
        clock,
        maxAttempts: 5,
        timeoutMs: 2000,
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        allowPrivateAddresses: true,
        ...extra,
      });
      workers.push(w);
      return w;
    };

    beforeEach(async () => {
      redis = createRedis(process.env.REDIS_URL ?? '', log, 'worker-test');
      blocking = createRedis(process.env.REDIS_URL ?? '', log, 'worker-test-blocking', { commandTimeoutMs: 10_000 });
      await Promise.all([connectRedis(redis), connectRedis(blocking)]);
      hook = new WebhookReceiver(SECRET);
      await hook.start();
    });

    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      for (const appid of appids.splice(0)) {
        await redis.del(keysOf(appid).dead, keysOf(appid).parked);
        await redis.zrem(keysOf(appid).deadIndex, appid);
      }
      redis.disconnect();
      await hook.stop();
    });

    it('a delivery taken over from a worker that died carries the next attempt number', async () => {
      const appid = newAppid();
      const k = keysOf(appid);
      await redis.xgroup('CREATE', k.stream, GROUP, '0', 'MKSTREAM').catch(() => undefined);
      // A first-time delivery and one already retried twice (attempts 2 in the entry).
      await redis.xadd(k.stream, '*', ...toFields({ deliveryId: 'fresh', appid, message: '{"n":1}', attempts: 0, receivedAt: 1 }));
      await redis.xadd(k.stream, '*', ...toFields({ deliveryId: 'retried', appid, message: '{"n":2}', attempts: 2, receivedAt: 1 }));
      // A worker reads both (and may have sent them), then dies without acknowledging.
      const read = (await redis.xreadgroup('GROUP', GROUP, 'crashed-worker', 'COUNT', 100, 'STREAMS', k.stream, '>')) as [string, [string, string[]][]][];
      expect(read[0]![1].filter(([, f]) => f.includes(appid))).to.have.length(2);

      newWorker(appid, new ManualClock(), { reclaimIdleMs: 300 }).start();
      await hook.waitFor(2, 10_000);
      const byId = Object.fromEntries(hook.deliveries.map((d) => [d.deliveryId, d]));
      expect(byId.fresh!.attempt).to.equal(2);
      expect(byId.fresh!.body.attempt).to.equal(2);
      expect(byId.retried!.attempt).to.equal(4);
      expect(byId.fresh!.signatureValid).to.equal(true);
      // Acknowledged and removed by the worker that took them over.
      const admin = new WebhookAdmin(redis);
      await until('the queue to empty', async () => {
        const s = await admin.status(appid);
        return s.backlog === 0 && s.inFlight === 0;
      });
    });

    it('dead letters are stamped with the clock, trimmed after the retention, and capped in number', async () => {
      const appid = newAppid();
      const t0 = Date.UTC(2031, 5, 1);
      const clock = new ManualClock(t0);
      hook.down = true;
      const worker = newWorker(appid, clock, { maxAttempts: 1, deadRetentionMs: 7 * DAY_MS, deadMaxLen: 3 });
      worker.start();
      const queue = async (deliveryId: string) => {
        await redis.xadd(keysOf(appid).stream, '*', ...toFields({ deliveryId, appid, message: '{}', attempts: 0, receivedAt: clock.now() }));
      };
      const deadIds = async () => ((await redis.xrange(keysOf(appid).dead, '-', '+')) as [string, string[]][]).map(([id, f]) => [id.split('-')[0], f[1]]);

      await queue('d1');
      await until('d1 to be dead-lettered', async () => (await redis.xlen(keysOf(appid).dead)) === 1);
      clock.advance(3 * DAY_MS);
      await queue('d2');
      await until('d2 to be dead-lettered', async () => (await redis.xlen(keysOf(appid).dead)) === 2);
      // Their ids are their time of death on the worker's clock.
      expect(await deadIds()).to.deep.equal([
        [String(t0), 'd1'],
        [String(t0 + 3 * DAY_MS), 'd2'],
      ]);

      expect(await worker.trimDeadLetters()).to.equal(0);
      clock.set(t0 + 7 * DAY_MS + 1);
      expect(await worker.trimDeadLetters()).to.equal(1);
      expect((await deadIds()).map(([, d]) => d)).to.deep.equal(['d2']);

      // The cap keeps the newest three.
      for (const id of ['d3', 'd4', 'd5']) await queue(id);
      // (Delivered concurrently, so they may die in any order.)
      const names = async () => (await deadIds()).map(([, d]) => d as string).sort();
      await until('d3..d5 to be dead-lettered', async () => (await names()).join() === 'd3,d4,d5');
      expect(await redis.xlen(keysOf(appid).dead)).to.equal(3);

      clock.set(t0 + 15 * DAY_MS);
      expect(await worker.trimDeadLetters()).to.equal(3);
      expect(await redis.xlen(keysOf(appid).dead)).to.equal(0);
    });
  });
});
