import { expect } from 'chai';
import { startHarness, type Harness, type Res } from '../support/harness';

/**
 * Per-tenant rate limits on two gateway processes sharing one Redis: the allowance is the fleet's,
 * not each instance's. Windows of a minute keep the counts exact however slow the machine is.
 */
describe('rate limits across the fleet', function () {
  this.timeout(30_000);
  let h: Harness;

  before(async () => {
    h = await startHarness(2, { RATE_LIMIT_LOGIN: '10/min', RATE_LIMIT_USERS: '6/min', RATE_LIMIT_MINIAPP: '3/min', RATE_LIMIT_PASSTHROUGH: 'off' });
  });
  after(async () => h?.close());

  /** n concurrent logins of distinct users, alternating between the two gateways. */
  const logins = (appid: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => h.login(appid, `test:rl${i}`, i % 2)));

  function expectLimited(r: Res): void {
    expect(r.status, r.text).to.equal(429);
    expect(r.headers.get('content-type')).to.match(/^application\/json/);
    expect(r.json.error.code).to.equal('RATE_LIMITED');
    const retryAfter = Number(r.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    expect(r.json.error.details).to.deep.equal({ limit: r.json.error.details.limit, retryAfter });
  }

  it('login: the env default holds for the two gateways together, the rest get 429 RATE_LIMITED with Retry-After', async () => {
    const A = await h.tenant();
    const rs = await logins(A.appid, 30);
    const ok = rs.filter((r) => r.status === 200);
    const limited = rs.filter((r) => r.status !== 200);
    expect(ok).to.have.length(10);
    expect(limited).to.have.length(20);
    for (const r of limited) expectLimited(r);
    expect(limited[0]!.json.error.details.limit).to.equal('10/min');
    // Each gateway took 15 of the 30: both refused some, so neither kept a count of its own.
    expect(new Set(rs.map((r, i) => (r.status === 429 ? i % 2 : -1)).filter((g) => g >= 0))).to.deep.equal(new Set([0, 1]));
    // Still refused on either gateway afterwards.
    expectLimited(await h.login(A.appid, 'test:late', 0));
    expectLimited(await h.login(A.appid, 'test:late', 1));
  });

  it("a tenant file's limits beat the env default, `off` lifts it, and another tenant keeps its own allowance", async () => {
    const [strict, open, other] = await Promise.all([h.tenant({ limits: { login: '4/min' } }), h.tenant({ limits: { login: 'off' } }), h.tenant()]);
    const s = await logins(strict.appid, 12);
    expect(s.filter((r) => r.status === 200)).to.have.length(4);
    for (const r of s.filter((x) => x.status !== 200)) expectLimited(r);
    expect(s.find((r) => r.status === 429)!.json.error.details.limit).to.equal('4/min');

    expect((await logins(open.appid, 25)).map((r) => r.status)).to.deep.equal(Array(25).fill(200));
    // The strict tenant used its rate up; this one still has all of its 10.
    expect((await logins(other.appid, 10)).map((r) => r.status)).to.deep.equal(Array(10).fill(200));
  });

  it('user endpoints count per tenant after the session is checked', async () => {
    const A = await h.tenant();
    const { token } = await h.newUser(A.appid);
    // Without a session: 401, not counted.
    for (let i = 0; i < 8; i++) expect((await h.req('GET', `/${A.appid}/users/me`, { gateway: i % 2 })).status).to.equal(401);
    const rs = await Promise.all(Array.from({ length: 9 }, (_, i) => h.req('GET', `/${A.appid}/users/me`, { auth: token, gateway: i % 2 })));
    expect(rs.filter((r) => r.status === 200)).to.have.length(6);
    for (const r of rs.filter((x) => x.status !== 200)) expectLimited(r);
  });

  it('mini-program APIs are limited; passthrough with RATE_LIMIT_PASSTHROUGH=off is not, unless the tenant file says so', async () => {
    const A = await h.tenant();
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => h.req('POST', `/${A.appid}/links/url`, { auth: A.key, json: { path: 'pages/index/index' }, gateway: i % 2 })));
    expect(
      rs.filter((r) => r.status !== 429),
      rs.map((r) => r.text).join('\n'),
    ).to.have.length(3);
    for (const r of rs.filter((x) => x.status === 429)) expectLimited(r);

    const ps = await Promise.all(Array.from({ length: 20 }, (_, i) => h.req('POST', `/${A.appid}/wxapi/wxa/generatescheme`, { auth: A.key, json: {}, gateway: i % 2 })));
    expect(ps.map((r) => r.status)).to.deep.equal(Array(20).fill(200));

    // A tenant file can limit what the env leaves open.
    const B = await h.tenant({ limits: { passthrough: '2/min' } });
    const bs = await Promise.all(Array.from({ length: 5 }, (_, i) => h.req('POST', `/${B.appid}/wxapi/wxa/generatescheme`, { auth: B.key, json: {}, gateway: i % 2 })));
    expect(bs.filter((r) => r.status === 200)).to.have.length(2);
    for (const r of bs.filter((x) => x.status !== 200)) expectLimited(r);
  });
});
