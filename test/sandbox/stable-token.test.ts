import { expect } from 'chai';
import { APP, classicToken, type Harness, MIN, SEC, stableToken, startSandbox, T0, tokenOf, useToken } from './helpers';

describe('sandbox: /cgi-bin/stable_token', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startSandbox();
  });
  afterEach(() => h.close());

  it('returns the same token while more than 5 minutes remain, with the remaining lifetime', async () => {
    const a = await stableToken(h);
    expect(a.expires_in).to.equal(7200);
    h.clock.advance(100 * SEC);
    const b = await stableToken(h, false);
    expect(b.access_token).to.equal(a.access_token);
    expect(b.expires_in).to.equal(7100);
    h.clock.advance(6800 * SEC - 1); // 300 s + 1 ms left
    const c = await stableToken(h);
    expect(c.access_token).to.equal(a.access_token);
    expect(c.expires_in).to.equal(300);
  });

  it('renews in the last 5 minutes; old and new both work until the old one expires', async () => {
    const old = tokenOf(await stableToken(h));
    h.clock.advance(6901 * SEC); // 299 s left
    const renewed = await stableToken(h);
    const fresh = tokenOf(renewed);
    expect(fresh).to.not.equal(old);
    expect(renewed.expires_in).to.equal(7200);
    expect(await useToken(h, old)).to.equal(0);
    expect(await useToken(h, fresh)).to.equal(0);
    // next normal call returns the new one
    expect((await stableToken(h)).access_token).to.equal(fresh);
    h.clock.advance(299 * SEC);
    expect(await useToken(h, old)).to.equal(42001);
    expect(await useToken(h, fresh)).to.equal(0);
  });

  it('every expires_in it returns is >= 300', async () => {
    await stableToken(h);
    for (let i = 0; i < 30; i++) {
      h.clock.advance(7 * MIN + 13 * SEC);
      const b = await stableToken(h);
      expect(b.expires_in as number).to.be.at.least(300);
    }
  });

  it('force_refresh issues a new token and kills the old one at once', async () => {
    const old = tokenOf(await stableToken(h));
    const forced = tokenOf(await stableToken(h, true));
    expect(forced).to.not.equal(old);
    expect(await useToken(h, old)).to.equal(40001);
    expect(await useToken(h, forced)).to.equal(0);
    expect((await stableToken(h)).access_token).to.equal(forced);
  });

  it('force_refresh also kills a token still in its hand-over window', async () => {
    const first = tokenOf(await stableToken(h));
    h.clock.advance(6950 * SEC);
    const second = tokenOf(await stableToken(h));
    expect(await useToken(h, first)).to.equal(0);
    const forced = tokenOf(await stableToken(h, true));
    expect(await useToken(h, first)).to.equal(40001);
    expect(await useToken(h, second)).to.equal(40001);
    expect(await useToken(h, forced)).to.equal(0);
  });

  it('force_refresh must be at least 30 s apart (45011)', async () => {
    await stableToken(h, true);
    h.clock.advance(30 * SEC - 1);
    const r = await stableToken(h, true);
    expect(r.errcode).to.equal(45011);
    expect(r.errmsg).to.match(/^api minute-quota reach limit mustslower retry next minute rid: /);
    h.clock.advance(1);
    expect((await stableToken(h, true)).access_token).to.be.a('string');
  });

  it('force_refresh is limited to 20 per UTC day (45009), counted per appid', async () => {
    h.clock.set(T0 + 12 * 60 * MIN);
    for (let i = 0; i < 20; i++) {
      expect((await stableToken(h, true)).access_token, `force #${i + 1}`).to.be.a('string');
      h.clock.advance(30 * SEC);
    }
    const r = await stableToken(h, true);
    expect(r.errcode).to.equal(45009);
    // normal mode still works
    expect((await stableToken(h)).access_token).to.be.a('string');
    h.clock.set(T0 + 24 * 60 * MIN);
    expect((await stableToken(h, true)).access_token).to.be.a('string');
  });

  it('checks credentials like /cgi-bin/token', async () => {
    const post = (b: unknown) => h.http.post('/cgi-bin/stable_token', b).then((r) => r.data);
    expect((await post({ grant_type: 'client_credential', appid: 'wxnope', secret: 'x' })).errcode).to.equal(40013);
    expect((await post({ grant_type: 'client_credential', appid: APP.appid, secret: 'bad' })).errcode).to.equal(40125);
    expect((await post({ grant_type: 'client_credential', secret: 'x' })).errcode).to.equal(41002);
    expect((await post({ grant_type: 'client_credential', appid: APP.appid })).errcode).to.equal(41004);
    expect((await post({ grant_type: 'x', appid: APP.appid, secret: APP.secret })).errcode).to.equal(40002);
    const raw = await h.http.post('/cgi-bin/stable_token', '{not json', { headers: { 'content-type': 'application/json' } });
    expect(raw.data.errcode).to.equal(47001);
  });

  it('is isolated from classic tokens in both directions', async () => {
    const s = tokenOf(await stableToken(h));
    const c1 = tokenOf(await classicToken(h));
    tokenOf(await classicToken(h));
    h.clock.advance(10 * MIN);
    expect(await useToken(h, c1)).to.equal(40001); // superseded classic token dies...
    expect(await useToken(h, s)).to.equal(0); // ...but classic calls never touch the stable token
    expect((await stableToken(h)).access_token).to.equal(s);
    const c3 = tokenOf(await classicToken(h));
    h.clock.advance(30 * SEC);
    await stableToken(h, true);
    expect(await useToken(h, c3)).to.equal(0); // force_refresh leaves classic tokens alone
    h.clock.advance(10 * MIN);
    expect(await useToken(h, c3)).to.equal(0);
  });

  it('classic quota is not consumed by stable tokens', async () => {
    const h2 = await startSandbox({ dailyTokenQuota: 1 });
    try {
      for (let i = 0; i < 3; i++) await stableToken(h2);
      expect((await classicToken(h2)).access_token).to.be.a('string');
      expect((await classicToken(h2)).errcode).to.equal(45009);
      expect((await stableToken(h2)).access_token).to.be.a('string');
    } finally {
      await h2.close();
    }
  });
});
