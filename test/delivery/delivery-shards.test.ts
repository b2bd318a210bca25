import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import { TestRedis } from '../../src/devstack/redis-server';
import type { Tenant } from '../../src/tenancy/tenant';
import { WebhookWorker } from '../../src/delivery/webhook-worker';
import { WebhookAdmin } from '../../src/delivery/webhook-admin';
import { DEFAULT_SHARDS, GROUP, LEGACY_STREAMS_SET, legacyDeadKey, legacyRetryKey, legacyStreamKey, tenantKeys, toFields } from '../../src/delivery/webhook-keys';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'shards-test-secret-0123456789';

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

async function until(what: string, probe: () => Promise<boolean>, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const totalCommands = async (r: Redis) => Number(/total_commands_processed:(\d+)/.exec(await r.info('stats'))?.[1]);

/**
 * Delivery on shard streams, each test on a Redis of its own (commands are counted, and the old
 * layout is written by hand): a worker's idle cost does not grow with the tenant count, and what a
 * version before shards queued is delivered.
 */
describe('delivery: shard streams (real Redis, a real webhook receiver)', function () {
  this.timeout(120_000);
  const log = createLogger('silent');
  let server: TestRedis;
  let redis: Redis;
  let blocking: Redis;
  let hook: WebhookReceiver;
  let worker: WebhookWorker | undefined;

  beforeEach(async () => {
    server = new TestRedis();
    await server.start();
    redis = createRedis(server.url, log, 'shards-test');
    blocking = createRedis(server.url, log, 'shards-test-blocking', { commandTimeoutMs: 10_000 });
    await Promise.all([connectRedis(redis), connectRedis(blocking)]);
    hook = new WebhookReceiver(SECRET);
    await hook.start();
  });

  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    redis.disconnect();
    await hook.stop();
    await server.stop();
  });

  const startWorker = (clock = new ManualClock(Date.now()), extra: Partial<ConstructorParameters<typeof WebhookWorker>[0]> = {}) => {
    worker = new WebhookWorker({
      redis,
      blocking,
      resolveTenant: async (appid) => tenantFor(appid, hook.url),
      log,
      clock,
      maxAttempts: 5,
      timeoutMs: 2000,
      retryBaseMs: 60_000,
      retryMaxMs: 60_000,
      allowPrivateAddresses: true,
      onOldestPending: () => undefined,
      ...extra,
    });
    worker.start();
    return worker;
  };

  /**
   * Commands per second the server processed over `ms`, less the two INFO calls that measure it.
   * Only the worker (and this idle test connection) talk to this Redis.
   */
  async function idleRate(ms: number): Promise<number> {
    const before = await totalCommands(redis);
    await new Promise((r) => setTimeout(r, ms));
    const after = await totalCommands(redis);
    return ((after - before - 1) * 1000) / ms;
  }

  /** Every tenant gets one push, all delivered: each is a tenant the worker has seen, with a webhook. */
  async function serveTenants(n: number): Promise<void> {
    const appids = Array.from({ length: n }, () => 'wx' + randomBytes(8).toString('hex'));
    for (let i = 0; i < appids.length; i += 500) {
      const tx = redis.multi();
      for (const appid of appids.slice(i, i + 500))
        tx.xadd(tenantKeys(appid, DEFAULT_SHARDS).stream, '*', ...toFields({ deliveryId: appid, appid, message: '{}', attempts: 0, receivedAt: 1 }));
      await tx.exec();
    }
  }

  async function idleRateWith(tenants: number): Promise<number> {
    const start = hook.deliveries.length;
    await serveTenants(tenants);
    await until(`${tenants} deliveries`, async () => hook.deliveries.length - start >= tenants, 90_000);
    // Past the start-up jobs (group creation, first housekeeping, legacy drain, trim).
    await new Promise((r) => setTimeout(r, 1500));
    return idleRate(6000);
  }

  it('an idle worker issues about as many Redis commands per second with 2 000 tenants served as with 10', async () => {
    startWorker();
    const few = await idleRateWith(10);
    const many = await idleRateWith(2000);
    console.log(`      idle Redis commands/s: ${few.toFixed(1)} after 10 tenants, ${many.toFixed(1)} after 2 010 tenants`);
    // Generous bounds: the worker's idle work is per shard (16), not per tenant; a per-tenant loop
    // would issue thousands per second here.
    expect(many).to.be.lessThan(50);
    expect(many).to.be.lessThan(few * 2 + 10);
  });

  it('deliveries queued by a version before shards (per-tenant streams, retries, dead letters) are delivered or kept', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, c] = ['a', 'b', 'c'].map(() => 'wx' + randomBytes(8).toString('hex')) as [string, string, string];
    // a: two queued, one of them taken by an old worker that died; b: queued before any worker made a group.
    await redis.xgroup('CREATE', legacyStreamKey(a), GROUP, '0', 'MKSTREAM');
    await redis.xadd(legacyStreamKey(a), '*', ...toFields({ deliveryId: 'a-taken', appid: a, message: '{"n":1}', attempts: 0, receivedAt: 1 }));
    await redis.xreadgroup('GROUP', GROUP, 'old-worker-that-died', 'COUNT', 1, 'STREAMS', legacyStreamKey(a), '>');
    await redis.xadd(legacyStreamKey(a), '*', ...toFields({ deliveryId: 'a-queued', appid: a, message: '{"n":2}', attempts: 0, receivedAt: 1 }));
    await redis.xadd(legacyStreamKey(b), '*', ...toFields({ deliveryId: 'b-queued', appid: b, message: '{"n":3}', attempts: 0, receivedAt: 1 }));
    // c: a retry due now and a dead letter.
    await redis.zadd(legacyRetryKey(c), clock.now() - 1, JSON.stringify({ deliveryId: 'c-retry', appid: c, message: '{"n":4}', receivedAt: 1, attempts: 2, lastError: 'HTTP 500' }));
    await redis.xadd(legacyDeadKey(c), `${clock.now() - 1000}-0`, ...toFields({ deliveryId: 'c-dead', appid: c, message: '{"n":5}', attempts: 5, receivedAt: 1 }, { lastError: 'HTTP 500' }));
    await redis.sadd(LEGACY_STREAMS_SET, a, b, c);

    startWorker(clock, { reclaimIdleMs: 200 });
    await hook.waitFor(4, 30_000);
    const byId = Object.fromEntries(hook.deliveries.map((d) => [d.deliveryId, d]));
    expect(Object.keys(byId).sort()).to.deep.equal(['a-queued', 'a-taken', 'b-queued', 'c-retry']);
    // Taken by the dead worker, which may have sent it: the next attempt number.
    expect(byId['a-taken']!.attempt).to.equal(2);
    expect(byId['a-queued']!.attempt).to.equal(1);
    expect(byId['c-retry']!.attempt).to.equal(3);
    // The dead letter is kept, under the tenant, with its time of death.
    const dead = await new WebhookAdmin(redis).dead(c, 10);
    expect(dead.map((d) => d.deliveryId)).to.deep.equal(['c-dead']);
    expect(dead[0]!.id.startsWith(String(clock.now() - 1000))).to.equal(true);
    // Nothing is left in the old layout.
    await until('the old layout to be empty', async () => (await redis.scard(LEGACY_STREAMS_SET)) === 0);
    expect(await redis.exists(legacyStreamKey(a), legacyStreamKey(b), legacyRetryKey(c), legacyDeadKey(c))).to.equal(0);
  });

  it('a tenant at its cap has the rest of its entries parked, not read over and over, and the status counts them', async () => {
    const slow = 'wx' + randomBytes(8).toString('hex');
    hook.delayMs = 1500;
    const admin = new WebhookAdmin(redis);
    for (let i = 0; i < 20; i++) await redis.xadd(tenantKeys(slow, DEFAULT_SHARDS).stream, '*', ...toFields({ deliveryId: `s${i}`, appid: slow, message: '{}', attempts: 0, receivedAt: 1 }));
    startWorker(new ManualClock(Date.now()), { tenantConcurrency: 2 });
    await until('the cap to be reached and the rest parked', async () => (await redis.llen(tenantKeys(slow, DEFAULT_SHARDS).parked)) >= 15, 10_000);
    // A delivery may finish while the status is read: the count lies between the two readings.
    const doneBefore = hook.deliveries.length;
    const s = await admin.status(slow);
    const doneAfter = hook.deliveries.length;
    expect(s.inFlight).to.be.at.most(2);
    expect(s.backlog + s.inFlight).to.be.within(20 - doneAfter, 20 - doneBefore);
    expect(s.oldestPendingAgeS).to.be.greaterThan(0);
    // All of them get delivered in the end, never more than two at once.
    hook.delayMs = 0;
    await hook.waitFor(20, 30_000);
    expect(hook.maxActive).to.be.at.most(2);
    expect(new Set(hook.deliveries.map((d) => d.deliveryId)).size).to.equal(20);
  });
});
