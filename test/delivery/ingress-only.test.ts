import Redis from 'ioredis';
import { expect } from 'chai';
import { TestRedis } from '../../src/devstack/redis-server';
import { buildPush, deliverPush, samplePush } from '../../src/sandbox/push-simulator';
import { DEFAULT_SHARDS, tenantKeys } from '../../src/delivery/webhook-keys';
import { Stores, startFleet, stopFleet } from '../support/fleet';
import { makeTenant } from '../support/tenant-fixtures';
import { WebhookReceiver } from '../support/webhook-receiver';
import type { GatewayProcess } from '../support/gateway-process';
import { pollUntil } from '../support/gateway-helpers';

const WEBHOOK_SECRET = 'ingress-only-webhook-secret-01';

/**
 * WEBHOOK_CONCURRENCY=0: an instance that takes pushes and delivers none. Its pushes wait in Redis
 * (answered, queued, never read by it) until an instance that delivers comes up.
 */
describe('delivery: an ingress-only instance (WEBHOOK_CONCURRENCY=0, gateway processes)', function () {
  this.timeout(60_000);
  let redis: TestRedis;
  let admin: Redis;
  let stores: Stores;
  let hook: WebhookReceiver;
  const fleets: GatewayProcess[][] = [];

  before(async () => {
    redis = new TestRedis();
    await redis.start();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    stores = await Stores.open();
    hook = new WebhookReceiver(WEBHOOK_SECRET);
    await hook.start();
  });
  after(async () => {
    for (const f of fleets) await stopFleet(f);
    await hook?.stop();
    admin?.disconnect();
    await stores?.close();
    await redis?.stop();
  });

  it('queues what it answers, delivers nothing itself, and a delivering instance started later delivers it all', async () => {
    const t = makeTenant({ webhook: { url: hook.url, secret: WEBHOOK_SECRET } });
    await stores.seed(t);
    const [ingress] = await startFleet(1, { REDIS_URL: redis.url, WEBHOOK_CONCURRENCY: '0' });
    fleets.push([ingress!]);
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    for (const fromUser of users) {
      const p = buildPush(t, samplePush('text', { fromUser, content: 'hi' }), { format: 'json', mode: 'plain' });
      const [attempt] = await deliverPush(`${ingress!.url}/${t.appid}/portal`, p, { retries: 0 });
      expect(attempt?.status, JSON.stringify(attempt)).to.equal(200);
    }
    const stream = tenantKeys(t.appid, DEFAULT_SHARDS).stream;
    expect(await admin.xlen(stream)).to.equal(users.length);
    // Long enough for a worker's blocking read to have taken them, were one running.
    await new Promise((r) => setTimeout(r, 1500));
    expect(hook.deliveries).to.have.length(0);
    const groups = (await admin.xinfo('GROUPS', stream).catch(() => [])) as unknown[];
    expect(groups, 'no consumer group: nothing has read the stream').to.have.length(0);

    const delivering = await startFleet(1, { REDIS_URL: redis.url });
    fleets.push(delivering);
    await pollUntil(async () => hook.deliveries.length >= users.length, { withinMs: 15_000, everyMs: 50, what: 'the queued pushes delivered' });
    expect(hook.deliveries.map((d) => d.body.message.fromUser).sort()).to.deep.equal(users);
    expect(ingress!.child.exitCode).to.equal(null);
  });
});
