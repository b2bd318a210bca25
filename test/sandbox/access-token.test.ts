import { expect } from 'chai';
import { api, APP, APP2, classicToken, type Harness, MIN, SEC, stableToken, startSandbox, tokenOf, useToken } from './helpers';

describe('sandbox: access-token check, rotate and revoke', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startSandbox();
  });
  afterEach(() => h.close());

  const apis = [
    '/wxa/business/getuserphonenumber',
    '/wxa/getwxacodeunlimit',
    '/cgi-bin/message/subscribe/send',
    '/cgi-bin/message/custom/send',
    '/wxa/msg_sec_check',
    '/wxa/generate_urllink',
    '/wxa/generatescheme',
    '/cgi-bin/media/upload',
  ];

  it('every API answers 41001 without a token and 40001 with an unknown one', async () => {
    for (const path of apis) {
      const missing = await api(h, path, undefined);
      expect(missing.errcode, path).to.equal(41001);
      expect(missing.errmsg).to.match(/^access_token missing rid: /);
      expect((await api(h, path, 'nonsense')).errcode, path).to.equal(40001);
    }
    const get = await h.http.get('/cgi-bin/media/get', { params: { media_id: 'x' } });
    expect(get.data.errcode).to.equal(41001);
  });

  it('answers 42001 for an expired token', async () => {
    const t = tokenOf(await classicToken(h));
    h.clock.advance(7200 * SEC);
    const r = await api(h, '/wxa/msg_sec_check', t, { content: 'x', version: 2, scene: 1, openid: 'o1' });
    expect(r.errcode).to.equal(42001);
    expect(r.errmsg).to.match(/^access_token expired rid: /);
  });

  it('rotateToken imitates another system: the gateway token dies 5 minutes later', async () => {
    const mine = tokenOf(await classicToken(h));
    const other = h.sb.rotateToken(APP.appid);
    expect(other).to.not.equal(mine);
    expect(await useToken(h, other)).to.equal(0);
    h.clock.advance(5 * MIN - 1);
    expect(await useToken(h, mine)).to.equal(0);
    h.clock.advance(1);
    expect(await useToken(h, mine)).to.equal(40001);
    expect(h.sb.calls('/cgi-bin/token')).to.equal(1); // rotation is not a gateway call
  });

  it('rotateToken leaves stable tokens alone', async () => {
    const s = tokenOf(await stableToken(h));
    h.sb.rotateToken(APP.appid);
    h.clock.advance(10 * MIN);
    expect(await useToken(h, s)).to.equal(0);
  });

  it('revokeToken kills classic and stable tokens of that appid only, at once', async () => {
    const c = tokenOf(await classicToken(h));
    const s = tokenOf(await stableToken(h));
    const other = tokenOf(await classicToken(h, APP2));
    h.sb.revokeToken(APP.appid);
    expect(await useToken(h, c)).to.equal(40001);
    expect(await useToken(h, s)).to.equal(40001);
    expect(await useToken(h, other)).to.equal(0);
    // a normal stable call now issues a fresh token
    const s2 = tokenOf(await stableToken(h));
    expect(s2).to.not.equal(s);
    expect(await useToken(h, s2)).to.equal(0);
  });

  it('rotate/revoke of an unknown appid throws', () => {
    expect(() => h.sb.rotateToken('wxnope')).to.throw(/unknown appid/);
    expect(() => h.sb.revokeToken('wxnope')).to.throw(/unknown appid/);
  });

  it('attributes API calls to the token appid, and to `unknown` for unknown tokens', async () => {
    const t = tokenOf(await classicToken(h, APP2));
    await useToken(h, t);
    await useToken(h, 'nonsense');
    await api(h, '/wxa/generate_urllink', undefined);
    expect(h.sb.calls('/wxa/generate_urllink', APP2.appid)).to.equal(1);
    expect(h.sb.calls('/wxa/generate_urllink', 'unknown')).to.equal(2);
    expect(h.sb.calls('/wxa/generate_urllink')).to.equal(3);
    // a dead token still counts for its appid
    h.sb.revokeToken(APP2.appid);
    await useToken(h, t);
    expect(h.sb.calls('/wxa/generate_urllink', APP2.appid)).to.equal(2);
  });
});
