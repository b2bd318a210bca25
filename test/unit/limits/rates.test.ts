import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { formatRate, parseRate } from '../../../src/kernel/rates';
import { loadConfig } from '../../../src/kernel/config';
import { ConfigError, AppError } from '../../../src/kernel/errors';
import { createRedis, connectRedis, type Redis } from '../../../src/infra/redis';
import { createLogger } from '../../../src/kernel/log';
import { RateLimits, rateDefaults } from '../../../src/limits/rate-limits';
import { parseTenantDefinition } from '../../../src/composition/features';
import type { Tenant } from '../../../src/tenancy/tenant';
import { makeTenant } from '../../support/tenant-fixtures';

const BASE_ENV = { SECRETS_KEY: Buffer.alloc(32, 3).toString('base64'), ADMIN_TOKEN: 'a'.repeat(16) };

describe('rates ("20/s", "600/min", "10000/h", "off")', () => {
  it('reads points and window', () => {
    expect(parseRate('20/s')).to.deep.equal({ points: 20, durationS: 1 });
    expect(parseRate('600/min')).to.deep.equal({ points: 600, durationS: 60 });
    expect(parseRate('10000/h')).to.deep.equal({ points: 10000, durationS: 3600 });
    expect(parseRate(' 5 / sec ')).to.deep.equal({ points: 5, durationS: 1 });
    expect(parseRate('7/m')).to.deep.equal({ points: 7, durationS: 60 });
    expect(parseRate('3/hour')).to.deep.equal({ points: 3, durationS: 3600 });
    expect(parseRate('OFF')).to.equal(null);
  });

  it('refuses what is not a rate', () => {
    for (const bad of ['', '20', '0/s', '-1/s', '1.5/s', '20/d', '20/ms', 's/20', '020/s', '20/s/s', '2000000000/s', 'on', '1e3/s']) {
      expect(parseRate(bad), bad).to.equal(undefined);
    }
  });

  it('writes a rate back the way it reads', () => {
    for (const t of ['20/s', '600/min', '10000/h', 'off']) expect(formatRate(parseRate(t)!)).to.equal(t);
  });

  it('RATE_LIMIT_* default to 50/s for login and 200/s for the rest; "off" is null; a bad value names the variable', () => {
    const c = loadConfig(BASE_ENV);
    expect(rateDefaults(c)).to.deep.equal({
      login: { points: 50, durationS: 1 },
      users: { points: 200, durationS: 1 },
      miniapp: { points: 200, durationS: 1 },
      passthrough: { points: 200, durationS: 1 },
    });
    expect(loadConfig({ ...BASE_ENV, RATE_LIMIT_PASSTHROUGH: 'off' }).RATE_LIMIT_PASSTHROUGH).to.equal(null);
    expect(() => loadConfig({ ...BASE_ENV, RATE_LIMIT_LOGIN: '20 per second' }))
      .to.throw(ConfigError)
      .with.property('variable', 'RATE_LIMIT_LOGIN');
  });

  it('the tenant file takes `limits` with rates per kind of route, and refuses anything else there', () => {
    const ok = parseTenantDefinition({ ...makeTenant(), limits: { login: '20/s', passthrough: 'off' } }, 'test');
    expect((ok as unknown as { limits: unknown }).limits).to.deep.equal({ login: '20/s', passthrough: 'off' });
    expect(() => parseTenantDefinition({ ...makeTenant(), limits: { login: 'fast' } }, 'test')).to.throw(/limits\.login/);
    expect(() => parseTenantDefinition({ ...makeTenant(), limits: { pay: '1/s' } }, 'test')).to.throw(/limits/);
  });
});

describe('RateLimits', () => {
  const tenant = (limits?: Record<string, string>) => ({ appid: 'wx' + randomBytes(8).toString('hex'), ...(limits ? { limits } : {}) }) as unknown as Tenant;
  const defaults = { login: { points: 3, durationS: 60 }, users: null, miniapp: { points: 2, durationS: 60 }, passthrough: null };
  let redis: Redis;

  before(async () => {
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', createLogger('silent'), 'limits-test');
    await connectRedis(redis);
  });
  after(() => redis.disconnect());

  async function outcomes(limits: RateLimits, t: Tenant, n: number): Promise<(number | string)[]> {
    const out: (number | string)[] = [];
    for (let i = 0; i < n; i++) {
      const rate = limits.rateFor(t, 'login');
      try {
        if (rate) await limits.consume(t.appid, 'login', rate);
        out.push('ok');
      } catch (e) {
        expect(e).to.be.instanceOf(AppError);
        const err = e as AppError;
        expect(err.code).to.equal('RATE_LIMITED');
        out.push(Number(err.headers['Retry-After']));
      }
    }
    return out;
  }

  it('two instances on one Redis share one allowance; the tenant file beats the default; another tenant has its own', async () => {
    const a = new RateLimits({ redis, defaults });
    const b = new RateLimits({ redis, defaults });
    const t = tenant();
    const r = [...(await outcomes(a, t, 2)), ...(await outcomes(b, t, 2))];
    expect(r.slice(0, 3)).to.deep.equal(['ok', 'ok', 'ok']);
    expect(r[3]).to.be.a('number').within(1, 60);
    const own = await outcomes(b, tenant({ login: '5/min' }), 6);
    expect(own.slice(0, 5)).to.deep.equal(Array(5).fill('ok'));
    expect(own[5]).to.be.a('number').within(1, 60);
    expect(await outcomes(a, tenant({ login: 'off' }), 10)).to.deep.equal(Array(10).fill('ok'));
    expect(a.rateFor(tenant(), 'users')).to.equal(null);
  });

  it('with Redis unreachable, counts on the instance instead of failing the request', async () => {
    const down = createRedis('redis://127.0.0.1:1', createLogger('silent'), 'limits-down');
    try {
      const limits = new RateLimits({ redis: down, defaults });
      const r = await outcomes(limits, tenant(), 5);
      expect(r.slice(0, 3)).to.deep.equal(['ok', 'ok', 'ok']);
      expect(r[3]).to.be.a('number').within(1, 60);
    } finally {
      down.disconnect();
    }
  });
});
