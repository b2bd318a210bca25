import { expect } from 'chai';
import { startHarness, sessionRedisKey, type Harness, type TenantHandle } from '../support/harness';

describe('users: login and sessions (gateway processes + sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  let A: TenantHandle;
  let B: TenantHandle;

  before(async () => {
    // LOG_LEVEL info so the request log is written too: the test checks it for secrets.
    h = await startHarness(2, { LOG_LEVEL: 'info' });
    A = await h.tenant();
    B = await h.tenant();
  });
  after(async () => h.close());

  const me = (appid: string, token: string, gateway?: number) => h.req('GET', `/${appid}/users/me`, { auth: token, gateway });

  it('the first login creates the user, the second updates the same document (loginCount 2)', async () => {
    const openid = 'o_first_' + Date.now();
    const code1 = h.sandbox.issueLoginCode(A.appid, { openid, unionid: 'union-1' });
    const r1 = await h.login(A.appid, code1);
    expect(r1.status, r1.text).to.equal(200);
    expect(r1.json).to.include({ openid, unionid: 'union-1', isNewUser: true, expiresIn: 604800 });
    expect(r1.json.token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(r1.headers.get('cache-control')).to.equal('no-store');
    const key1 = h.sandbox.sessionKeyOf(A.appid, openid)!;
    expect(key1).to.be.a('string');
    expect(r1.text).not.to.include(key1);
    expect(Object.keys(r1.json).sort()).to.deep.equal(['expiresIn', 'isNewUser', 'openid', 'token', 'unionid']);

    const doc1 = await h.users().findOne({ appid: A.appid, openid });
    expect(doc1).to.not.equal(null);
    expect(doc1!.loginCount).to.equal(1);
    expect(doc1!.unionid).to.equal('union-1');
    expect(doc1!.sessionKey).to.match(/^v2\./);
    expect(JSON.stringify(doc1)).not.to.include(key1);

    // Second login, on the other gateway, with a new code: same document, new session key.
    const code2 = h.sandbox.issueLoginCode(A.appid, { openid });
    const r2 = await h.login(A.appid, code2, 1);
    expect(r2.status, r2.text).to.equal(200);
    expect(r2.json.isNewUser).to.equal(false);
    expect(r2.json.token).not.to.equal(r1.json.token);
    const key2 = h.sandbox.sessionKeyOf(A.appid, openid)!;
    expect(key2).not.to.equal(key1);
    expect(r2.text).not.to.include(key2);

    const docs = await h.users().find({ appid: A.appid, openid }).toArray();
    expect(docs).to.have.length(1);
    const doc2 = docs[0]!;
    expect(doc2.loginCount).to.equal(2);
    expect(doc2.firstSeenAt.getTime()).to.equal(doc1!.firstSeenAt.getTime());
    expect(doc2.lastLoginAt.getTime()).to.be.at.least(doc1!.lastLoginAt.getTime());
    expect(doc2.sessionKey).not.to.equal(doc1!.sessionKey);
    expect(JSON.stringify(doc2)).not.to.include(key2);
    // unionid, once known, survives a login whose answer lacks it
    expect(doc2.unionid).to.equal('union-1');

    // Both sessions work, on either gateway; /users/me carries no secret.
    for (const [token, gw] of [
      [r1.json.token, 1],
      [r2.json.token, 0],
    ] as const) {
      const m = await me(A.appid, token, gw);
      expect(m.status, m.text).to.equal(200);
      expect(m.json).to.include({ openid, unionid: 'union-1', loginCount: 2 });
      expect(m.json).not.to.have.property('sessionKey');
      expect(m.text).not.to.include(key1);
      expect(m.text).not.to.include(key2);
      expect(m.text).not.to.include('v1.');
    }
  });

  it('reusable test codes log distinct users in; concurrent first logins of one user make one document', async () => {
    const name = 'race' + Date.now();
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => h.login(A.appid, `test:${name}`, i % 2)));
    expect(rs.map((r) => r.status)).to.deep.equal(Array(12).fill(200));
    expect(rs.filter((r) => r.json.isNewUser === true)).to.have.length(1);
    const openid = `o_${A.appid}_${name}`;
    const docs = await h.users().find({ appid: A.appid, openid }).toArray();
    expect(docs).to.have.length(1);
    expect(docs[0]!.loginCount).to.equal(12);
  });

  it('session tokens are stored hashed, with the configured lifetime', async () => {
    const r = await h.login(A.appid, 'test:hashed');
    const token = r.json.token as string;
    expect(await h.redis.exists(`wxgate:session:${token}`)).to.equal(0);
    const stored = await h.redis.get(sessionRedisKey(token));
    expect(stored).to.be.a('string');
    expect(stored).not.to.include(token);
    expect(JSON.parse(stored!)).to.include({ appid: A.appid, openid: `o_${A.appid}_hashed` });
    const ttl = await h.redis.ttl(sessionRedisKey(token));
    expect(ttl).to.be.within(604800 - 60, 604800);
    // No key of the session namespace holds the token in clear.
    const keys = await h.redis.keys('wxgate:session:*');
    expect(keys.some((k) => k.includes(token))).to.equal(false);
  });

  it('a session of tenant A is refused on tenant B (INVALID_SESSION), and B users stay apart', async () => {
    const a = await h.newUser(A.appid, 'crosser');
    const onB = await me(B.appid, a.token);
    expect(onB.status).to.equal(401);
    expect(onB.json.error.code).to.equal('INVALID_SESSION');
    const b = await h.newUser(B.appid, 'crosser');
    expect(b.openid).not.to.equal(a.openid);
    expect((await me(A.appid, b.token)).json.error.code).to.equal('INVALID_SESSION');
    expect((await me(B.appid, b.token)).json.openid).to.equal(b.openid);
  });

  it('logout ends the session on every gateway; other sessions of the user live on', async () => {
    const s1 = await h.newUser(A.appid, 'leaver');
    const s2 = await h.newUser(A.appid, 'leaver');
    const out = await h.req('POST', `/${A.appid}/auth/logout`, { auth: s1.token, gateway: 1 });
    expect(out.status).to.equal(204);
    for (const gw of [0, 1]) {
      const r = await me(A.appid, s1.token, gw);
      expect(r.status).to.equal(401);
      expect(r.json.error.code).to.equal('INVALID_SESSION');
    }
    const again = await h.req('POST', `/${A.appid}/auth/logout`, { auth: s1.token });
    expect(again.status).to.equal(401);
    expect((await me(A.appid, s2.token)).status).to.equal(200);
  });

  it('an expired session is refused (INVALID_SESSION)', async () => {
    const s = await h.newUser(A.appid, 'expiring');
    expect((await me(A.appid, s.token)).status).to.equal(200);
    // Let Redis expire it, as it would after SESSION_TTL_S.
    await h.redis.pexpire(sessionRedisKey(s.token), 1);
    await new Promise((r) => setTimeout(r, 20));
    const r = await me(A.appid, s.token);
    expect(r.status).to.equal(401);
    expect(r.json.error.code).to.equal('INVALID_SESSION');
  });

  describe('WeChat login errors map to stable codes', () => {
    const cases: { name: string; setup: () => string; status: number; code: string }[] = [
      { name: '40029 unknown code', setup: () => 'no-such-code', status: 400, code: 'LOGIN_CODE_INVALID' },
      { name: '40029 issued for another app', setup: () => h.sandbox.issueLoginCode(B.appid), status: 400, code: 'LOGIN_CODE_INVALID' },
      { name: '40226 high-risk user', setup: () => h.sandbox.issueLoginCode(A.appid, { errcode: 40226 }), status: 403, code: 'LOGIN_BLOCKED' },
      { name: '45011 too frequent', setup: () => h.sandbox.issueLoginCode(A.appid, { errcode: 45011 }), status: 429, code: 'WECHAT_RATE_LIMITED' },
      {
        name: '40029 injected as a fault',
        setup: () => {
          h.sandbox.injectFault({ endpoint: '/sns/jscode2session', appid: A.appid, errcode: 40029, times: 1 });
          return 'test:faulted';
        },
        status: 400,
        code: 'LOGIN_CODE_INVALID',
      },
      {
        name: '40226 injected as a fault',
        setup: () => {
          h.sandbox.injectFault({ endpoint: '/sns/jscode2session', appid: A.appid, errcode: 40226, times: 1 });
          return 'test:faulted';
        },
        status: 403,
        code: 'LOGIN_BLOCKED',
      },
    ];
    for (const c of cases) {
      it(`${c.name} -> ${c.status} ${c.code}`, async () => {
        const r = await h.login(A.appid, c.setup());
        expect(r.status, r.text).to.equal(c.status);
        expect(r.json.error.code).to.equal(c.code);
        expect(r.json.error.details.errcode).to.be.a('number');
        if (c.code === 'WECHAT_RATE_LIMITED') expect(r.headers.get('retry-after')).to.equal('60');
      });
    }

    it('40163: a code used twice -> 400 LOGIN_CODE_INVALID', async () => {
      const code = h.sandbox.issueLoginCode(A.appid);
      expect((await h.login(A.appid, code)).status).to.equal(200);
      const r = await h.login(A.appid, code, 1);
      expect(r.status).to.equal(400);
      expect(r.json.error.code).to.equal('LOGIN_CODE_INVALID');
      expect(r.json.error.details.errcode).to.equal(40163);
    });

    it('45011 injected as a fault -> 429 WECHAT_RATE_LIMITED with Retry-After', async () => {
      h.sandbox.injectFault({ endpoint: '/sns/jscode2session', appid: A.appid, errcode: 45011, times: 1 });
      const r = await h.login(A.appid, 'test:limited');
      expect(r.status).to.equal(429);
      expect(r.json.error.code).to.equal('WECHAT_RATE_LIMITED');
      expect(r.headers.get('retry-after')).to.equal('60');
      // The limit is per user: the next login goes through.
      expect((await h.login(A.appid, 'test:limited')).status).to.equal(200);
    });

    it('-1 twice is retried; a misconfigured tenant gets a 502 without its secret', async () => {
      h.sandbox.injectFault({ endpoint: '/sns/jscode2session', appid: A.appid, errcode: -1, times: 2 });
      expect((await h.login(A.appid, 'test:busy')).status).to.equal(200);

      const wrong = await h.tenant();
      h.sandbox.registerApp({ appid: wrong.appid, secret: 'rotated-' + wrong.t.secret });
      const r = await h.login(wrong.appid, 'test:x');
      expect(r.status).to.equal(502);
      expect(r.json.error.code).to.equal('WECHAT_API_ERROR');
      expect(r.json.error.details.errcode).to.equal(40125);
      expect(r.text).not.to.include(wrong.t.secret);
    });
  });

  it('no login code, session key, token or app secret reaches the logs', async () => {
    const code = h.sandbox.issueLoginCode(A.appid, { openid: 'o_logcheck' });
    const r = await h.login(A.appid, code);
    expect(r.status).to.equal(200);
    const bad = h.sandbox.issueLoginCode(A.appid, { errcode: 40226 });
    expect((await h.login(A.appid, bad)).status).to.equal(403);
    await new Promise((res) => setTimeout(res, 100));
    const logs = h.fleet.map((g) => g.output()).join('\n');
    expect(logs).to.include(A.appid); // the request log is on
    for (const secret of [code, bad, r.json.token as string, h.sandbox.sessionKeyOf(A.appid, 'o_logcheck')!, A.t.secret, A.key]) {
      expect(logs).not.to.include(secret);
    }
  });
});
