import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness, type TenantHandle } from '../support/harness';
import { redisKeys } from '../../src/infra/redis-keys';
import { sessionBucket } from '../../src/auth/session-store';

/** Sessions per user: logout everywhere, and a bound on how many a user holds (gateway processes). */
describe('users: ending all sessions, and at most SESSION_MAX_PER_USER per user', function () {
  this.timeout(60_000);
  let h: Harness;
  let A: TenantHandle;

  before(async () => {
    h = await startHarness(2);
    A = await h.tenant();
  });
  after(() => h.close());

  const me = (token: string, gateway = 0) => h.req('GET', `/${A.appid}/users/me`, { auth: token, gateway });
  const live = async (tokens: string[]) => Promise.all(tokens.map(async (t, i) => (await me(t, i % 2)).status === 200));

  it('logout {"all": true} ends every session of that user on every gateway, and no other user\'s', async () => {
    const name = 'everywhere-' + randomBytes(3).toString('hex');
    const users = [await h.newUser(A.appid, name), await h.newUser(A.appid, name), await h.newUser(A.appid, name)];
    const mine = users.map((s) => s.token);
    const other = await h.newUser(A.appid);
    expect(await live(mine)).to.deep.equal([true, true, true]);
    const out = await h.req('POST', `/${A.appid}/auth/logout`, { auth: mine[1], json: { all: true }, gateway: 1 });
    expect(out.status, out.text).to.equal(204);
    expect(await live(mine)).to.deep.equal([false, false, false]);
    expect((await me(other.token)).status).to.equal(200);
    expect(await h.redis.exists(redisKeys.userSessions(sessionBucket(A.appid, users[0]!.openid), A.appid, users[0]!.openid))).to.equal(0);
  });

  it('logout without a body (or {"all": false}) ends only the presented session; a bad body is 400', async () => {
    const name = 'one-' + randomBytes(3).toString('hex');
    const [a, b] = [(await h.newUser(A.appid, name)).token, (await h.newUser(A.appid, name)).token];
    expect((await h.req('POST', `/${A.appid}/auth/logout`, { auth: a, json: { all: 'yes' } })).status).to.equal(400);
    expect((await h.req('POST', `/${A.appid}/auth/logout`, { auth: a, json: { all: false } })).status).to.equal(204);
    expect(await live([a!, b!])).to.deep.equal([false, true]);
    expect((await h.req('POST', `/${A.appid}/auth/logout`, { auth: b })).status).to.equal(204);
    expect(await live([b!])).to.deep.equal([false]);
  });

  it('the 11th login of a user ends the oldest session (default SESSION_MAX_PER_USER 10); the set is bounded', async () => {
    const name = 'many-' + randomBytes(3).toString('hex');
    const tokens: string[] = [];
    let openid = '';
    for (let i = 0; i < 12; i++) {
      const r = await h.login(A.appid, `test:${name}`, i % 2);
      expect(r.status, r.text).to.equal(200);
      tokens.push(r.json.token as string);
      openid = r.json.openid as string;
    }
    expect(await live(tokens)).to.deep.equal([false, false, ...Array.from({ length: 10 }, () => true)]);
    expect(await h.redis.zcard(redisKeys.userSessions(sessionBucket(A.appid, openid), A.appid, openid))).to.equal(10);
    // Concurrent logins cannot slip past the limit either.
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => h.login(A.appid, `test:${name}`, i % 2)));
    expect(burst.map((r) => r.status)).to.deep.equal(Array.from({ length: 8 }, () => 200));
    const all = [...tokens, ...burst.map((r) => r.json.token as string)];
    expect((await live(all)).filter(Boolean)).to.have.length(10);
    expect(await h.redis.zcard(redisKeys.userSessions(sessionBucket(A.appid, openid), A.appid, openid))).to.equal(10);
  });
});
