import { expect } from 'chai';
import Redis from 'ioredis';
import { RateLimits } from '../../src/limits/rate-limits';
import { testRedisUrl } from '../support/root-hooks';

/**
 * ioredis #1931: a limiter made while an auto-pipeline is open in the same tick used to call a Lua
 * command that pipeline did not have; ioredis then threw from a nextTick ("results[i] is not
 * iterable") and the gateway process died. Seen in the soak under mixed traffic.
 */
describe('rate limits on an auto-pipelined client', function () {
  this.timeout(20_000);
  let redis: Redis;

  before(async () => {
    // The gateway's own options: auto-pipelining on, no offline queue.
    redis = new Redis(testRedisUrl(), { enableAutoPipelining: true, enableOfflineQueue: false, lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    await redis.quit();
  });

  it('a new rate first used while other commands are pipelined in the same tick counts, and nothing throws out of band', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    const mochaListeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      const limits = new RateLimits({ redis, defaults: { login: null, users: null, miniapp: null, passthrough: null } });
      const appid = `wx${Date.now().toString(16).padStart(16, '0')}`.slice(0, 18);
      for (let round = 0; round < 20; round++) {
        // Other traffic opens an auto-pipeline in this tick; then a rate never used before is consumed.
        const others = [redis.get('wxgate:test:pipeline-a'), redis.incr('wxgate:test:pipeline-b')];
        const used = limits.consume(appid, 'login', { points: 1000, durationS: 60 + round });
        await Promise.all([...others, used]);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught, String(uncaught[0])).to.deep.equal([]);
      // The counters are in Redis: each of the 20 rates counted its one request.
      const counted = await redis.get(`wxgate:rl:79s:{${appid}}:login`);
      expect(counted).to.equal('1');
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const l of mochaListeners) process.on('uncaughtException', l);
    }
  });
});
