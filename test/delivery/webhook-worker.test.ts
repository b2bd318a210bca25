import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import type { Tenant } from '../../src/tenancy/tenant';
import { WebhookWorker, deliveryBody, retryDelayMs } from '../../src/delivery/webhook-worker';
import { STREAMS_SET, retryKey, streamKey, toFields } from '../../src/delivery/webhook-keys';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'worker-test-secret-0123456789';

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
      await redis.del(streamKey(appid), retryKey(appid));
      await redis.srem(STREAMS_SET, appid);
      redis.disconnect();
      await hook.stop();
    });

    it('schedules a failed delivery by the clock and sends it again only once the clock passes that time', async () => {
      hook.down = true;
      const queuedAt = clock.now();
      await redis
        .multi()
        .xadd(streamKey(appid), '*', ...toFields({ deliveryId: 'd-clock', appid, message: '{"n":1}', attempts: 0, receivedAt: queuedAt }))
        .sadd(STREAMS_SET, appid)
        .exec();

      const deadline = Date.now() + 10_000;
      let scheduled: [string, string] | undefined;
      while (Date.now() < deadline) {
        const r = (await redis.zrange(retryKey(appid), 0, -1, 'WITHSCORES')) as string[];
        if (r.length === 2) {
          scheduled = [r[0]!, r[1]!];
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
      expect(await redis.zcard(retryKey(appid))).to.equal(1);

      hook.down = false;
      clock.advance(12_001);
      await hook.waitFor(1, 10_000);
      const d = hook.deliveries[0]!;
      expect(d.deliveryId).to.equal('d-clock');
      expect(d.attempt).to.equal(2);
      expect(d.signatureValid).to.equal(true);
      expect(d.body.message).to.deep.equal({ n: 1 });
      expect(await redis.zcard(retryKey(appid))).to.equal(0);
    });
  });
});
