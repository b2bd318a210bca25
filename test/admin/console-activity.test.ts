import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import Redis from 'ioredis';
import { Activity } from '../../src/ops/activity';
import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { AppError } from '../../src/kernel/errors';
import { testRedisUrl } from '../support/root-hooks';

const MINUTE = 60_000;

/** The console's activity counters on the test Redis, with a clock the test moves. */
describe('admin: console activity counters (per-minute buckets in Redis)', function () {
  this.timeout(30_000);
  let redis: Redis;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 10, 30, 15));
  const appid = () => 'wx' + randomBytes(8).toString('hex');

  before(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  });
  after(() => redis.disconnect());

  const make = () => new Activity({ redis, clock, log: createLogger('silent') });

  it('sums the last 60 minutes of every instance, and forgets older minutes', async () => {
    const a = appid();
    const one = make();
    const two = make();
    one.count(a, 'accepted', 3);
    two.count(a, 'accepted');
    two.count(a, 'rejected');
    one.count(a, 'rateLimited', 2);
    // Nothing reaches Redis before a flush: the hot path does no I/O.
    expect((await one.read([a])).get(a)!.activity).to.deep.equal({ accepted1h: 0, rejected1h: 0, rateLimited1h: 0 });
    await Promise.all([one.flush(), two.flush()]);
    expect((await two.read([a])).get(a)!.activity).to.deep.equal({ accepted1h: 4, rejected1h: 1, rateLimited1h: 2 });

    clock.advance(59 * MINUTE);
    one.count(a, 'accepted');
    await one.flush();
    expect((await one.read([a])).get(a)!.activity.accepted1h).to.equal(5);
    clock.advance(MINUTE);
    // 60 minutes after the first counts: they are out of the window, the later one is not.
    expect((await one.read([a])).get(a)!.activity).to.deep.equal({ accepted1h: 1, rejected1h: 0, rateLimited1h: 0 });
    clock.advance(60 * MINUTE);
    expect((await one.read([a])).get(a)!.activity.accepted1h).to.equal(0);
  });

  it("keeps each tenant's keys in its own Cluster slot ({appid} hash tag), expiring", async () => {
    const a = appid();
    const act = make();
    act.count(a, 'accepted');
    act.tokenFetched(a);
    act.tokenFetchFailed(a, new AppError(502, 'WECHAT_UNAVAILABLE', `cannot reach WeChat for ${a}'s access token`));
    await act.flush();
    await new Promise((r) => setTimeout(r, 100));
    const keys = await redis.keys(`*{${a}}*`);
    expect(keys).to.have.length(3);
    for (const k of keys) {
      expect(k).to.match(new RegExp(`^wxgate:[a-z-]+:\\{${a}\\}`));
      expect(await redis.ttl(k), k).to.be.within(1, 24 * 3600);
    }
    const read = (await act.read([a])).get(a)!;
    expect(read.token.ageS).to.equal(0);
    expect(read.token.lastError).to.deep.include({ code: 'WECHAT_UNAVAILABLE' });
  });

  it('stores no message of an unexpected error (it could hold anything), only its kind', async () => {
    const a = appid();
    const act = make();
    act.tokenFetchFailed(a, new Error('connect ECONNREFUSED https://api.example/cgi-bin/token?secret=s3cr3t'));
    await new Promise((r) => setTimeout(r, 100));
    const raw = (await redis.get(`wxgate:token-error:{${a}}`)) ?? '';
    expect(raw).not.to.contain('s3cr3t');
    expect((await act.read([a])).get(a)!.token.lastError).to.deep.include({ code: 'INTERNAL', message: 'unexpected error' });
  });

  it('keeps counts when Redis cannot take them, and writes them with the next flush', async () => {
    const a = appid();
    const away = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    away.on('error', () => undefined);
    const act = new Activity({ redis: away, clock, log: createLogger('silent') });
    act.count(a, 'accepted', 2);
    await act.flush(); // does not throw
    // The same counts, moved to a working connection, arrive.
    (act as unknown as { o: { redis: Redis } }).o.redis = redis;
    await act.flush();
    expect((await act.read([a])).get(a)!.activity.accepted1h).to.equal(2);
    away.disconnect();
  });
});
