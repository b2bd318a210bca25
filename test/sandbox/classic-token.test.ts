import { expect } from 'chai';
import { APP, APP2, classicToken, type Harness, MIN, RID, SEC, startSandbox, T0, tokenOf, useToken } from './helpers';

describe('sandbox: classic /cgi-bin/token', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startSandbox({ dailyTokenQuota: 5 });
  });
  afterEach(() => h.close());

  it('issues a token with expires_in 7200 and a new token on every call', async () => {
    const a = await classicToken(h);
    const b = await classicToken(h);
    expect(a.expires_in).to.equal(7200);
    expect(a.errcode).to.equal(undefined);
    expect(tokenOf(a)).to.match(/^[A-Za-z0-9_-]{100,}$/);
    expect(tokenOf(a)).to.not.equal(tokenOf(b));
  });

  it('answers credential errors with HTTP 200 and WeChat errmsg texts', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ grant_type: 'client_credential', appid: 'wxnope', secret: 'x' }, 40013, 'invalid appid'],
      [{ grant_type: 'client_credential', appid: APP.appid, secret: 'wrong' }, 40125, 'invalid appsecret'],
      [{ grant_type: 'client_credential', secret: 'x' }, 41002, 'appid missing'],
      [{ grant_type: 'client_credential', appid: APP.appid }, 41004, 'appsecret missing'],
      [{ grant_type: 'password', appid: APP.appid, secret: APP.secret }, 40002, 'invalid grant_type'],
    ];
    for (const [params, errcode, text] of cases) {
      const r = await h.http.get('/cgi-bin/token', { params });
      expect(r.status).to.equal(200);
      expect(r.data.errcode, JSON.stringify(params)).to.equal(errcode);
      expect(r.data.errmsg.startsWith(`${text} rid: `)).to.equal(true);
      expect(r.data.errmsg).to.match(RID);
    }
  });

  it('keeps the previous token valid for 5 minutes, then answers 40001', async () => {
    const t1 = tokenOf(await classicToken(h));
    const t2 = tokenOf(await classicToken(h));
    expect(await useToken(h, t1)).to.equal(0);
    h.clock.advance(5 * MIN - 1);
    expect(await useToken(h, t1)).to.equal(0);
    h.clock.advance(1);
    expect(await useToken(h, t1)).to.equal(40001);
    const d = await h.http.post('/wxa/generate_urllink', {}, { params: { access_token: t1 } });
    expect(d.data.errmsg).to.match(/^invalid credential, access_token is invalid or not latest rid: /);
    expect(await useToken(h, t2)).to.equal(0);
  });

  it('grace is counted from when a token is superseded, not from its issue', async () => {
    const t1 = tokenOf(await classicToken(h));
    h.clock.advance(60 * MIN);
    tokenOf(await classicToken(h));
    h.clock.advance(4 * MIN);
    expect(await useToken(h, t1)).to.equal(0);
    h.clock.advance(1 * MIN);
    expect(await useToken(h, t1)).to.equal(40001);
  });

  it('expires tokens after expires_in with 42001', async () => {
    const t = tokenOf(await classicToken(h));
    h.clock.advance(7200 * SEC - 1);
    expect(await useToken(h, t)).to.equal(0);
    h.clock.advance(1);
    expect(await useToken(h, t)).to.equal(42001);
  });

  it('honours tokenTtlSeconds', async () => {
    const h2 = await startSandbox({ tokenTtlSeconds: 60 });
    try {
      const b = await classicToken(h2);
      expect(b.expires_in).to.equal(60);
      h2.clock.advance(60 * SEC);
      expect(await useToken(h2, tokenOf(b))).to.equal(42001);
    } finally {
      await h2.close();
    }
  });

  it('enforces the daily quota per appid (45009) and resets it at the next UTC day', async () => {
    h.clock.set(T0 + 23 * 60 * MIN);
    for (let i = 0; i < 5; i++) expect((await classicToken(h)).access_token).to.be.a('string');
    const over = await classicToken(h);
    expect(over.errcode).to.equal(45009);
    expect(over.errmsg).to.match(/^reach max api daily quota limit rid: /);
    // other appid unaffected
    expect((await classicToken(h, APP2)).access_token).to.be.a('string');
    // refused until the UTC day ends
    h.clock.advance(60 * MIN - 1);
    expect((await classicToken(h)).errcode).to.equal(45009);
    h.clock.advance(1);
    expect((await classicToken(h)).access_token).to.be.a('string');
  });
});
