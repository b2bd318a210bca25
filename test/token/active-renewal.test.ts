import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import { SecretBox } from '../../src/tenancy/secret-box';
import { ACTIVE_WINDOW_MS, TokenManager } from '../../src/token/token-manager';
import type { AccessTokenSource } from '../../src/token/access-token-source';
import { TEST_SECRETS_KEY } from '../support/gateway-process';
import { pollUntil, sleep } from '../support/gateway-helpers';

/**
 * The periodic renewal costs O(active tokens): it walks the tokens asked for within
 * ACTIVE_WINDOW_MS (at most maxEntries of them), never every tenant's. Real Redis, a fake clock,
 * and token sources that count their upstream fetches.
 */
describe('token: periodic renewal walks active tokens only', function () {
  this.timeout(60_000);
  const log = createLogger('silent');
  let redis: Redis;
  const clock = new ManualClock(Date.now());
  const managers: TokenManager[] = [];
  let fetches = 0;

  before(async () => {
    redis = createRedis(process.env.REDIS_URL ?? '', log);
    await connectRedis(redis);
  });
  after(() => {
    for (const m of managers) m.close();
    redis.disconnect();
  });

  const manager = (maxEntries: number) => {
    const m = new TokenManager({ redis, box: new SecretBox(TEST_SECRETS_KEY), clock, log, sleep, pollMs: 5, maxEntries });
    managers.push(m);
    return m;
  };
  const sources = (n: number): AccessTokenSource[] => {
    const run = randomBytes(4).toString('hex');
    return Array.from({ length: n }, (_, i) => ({
      key: `wxgate:test-active-renewal:${run}:${i}`,
      owner: `owner${i}`,
      kind: 'test',
      fetch: async () => {
        fetches++;
        return { accessToken: randomBytes(12).toString('hex'), expiresIn: 7200 };
      },
    }));
  };

  it('renews the due tokens used lately, and leaves the idle ones alone', async () => {
    const m = manager(10_000);
    const all = sources(100);
    for (const s of all) await m.get(s);
    expect(fetches).to.equal(100);

    clock.advance(6500_000);
    const busy = all.slice(0, 5);
    for (const s of busy) await m.get(s); // fresh still: L1 hits, no fetch
    expect(fetches).to.equal(100);

    // Every token is now due (refreshAt = 6900 s), but only the 5 asked for within the window count.
    clock.advance(450_000);
    expect(450_000).to.be.below(ACTIVE_WINDOW_MS);
    expect(m.refreshActive(), 'sources walked').to.equal(5);
    await pollUntil(async () => fetches === 105, { withinMs: 10_000, what: '5 renewals', last: () => String(fetches) });
    await sleep(300);
    expect(fetches, 'no renewal of idle tokens').to.equal(105);
  });

  it('the active set is bounded by maxEntries however many tenants ask', async () => {
    const m = manager(50);
    for (const s of sources(200)) await m.get(s);
    expect(m.activeCount).to.equal(50);
    expect(m.refreshActive()).to.equal(50);
  });
});
