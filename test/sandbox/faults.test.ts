import { expect } from 'chai';
import { APP, APP2, classicToken, type Harness, RID, startSandbox, tokenOf, useToken } from './helpers';

describe('sandbox: fault injection and counters', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startSandbox();
  });
  afterEach(() => h.close());

  it('answers the errcode for the next N matching calls, then behaves normally', async () => {
    h.sb.injectFault({ endpoint: '/cgi-bin/token', errcode: -1, times: 2 });
    const a = await classicToken(h);
    expect(a.errcode).to.equal(-1);
    expect(a.errmsg).to.match(/^system error rid: /);
    expect((await classicToken(h)).errcode).to.equal(-1);
    expect((await classicToken(h)).access_token).to.be.a('string');
    expect(h.sb.calls('/cgi-bin/token', APP.appid)).to.equal(3); // faulted calls are counted too
  });

  it('uses a custom errmsg and appends a rid', async () => {
    h.sb.injectFault({ endpoint: '/cgi-bin/token', errcode: 40164, errmsg: 'invalid ip 1.2.3.4, not in whitelist', times: 1 });
    const a = await classicToken(h);
    expect(a.errcode).to.equal(40164);
    expect(a.errmsg).to.match(/^invalid ip 1\.2\.3\.4, not in whitelist rid: /);
    expect(a.errmsg).to.match(RID);
  });

  it('matches by appid (API calls are attributed to the token appid)', async () => {
    const t1 = tokenOf(await classicToken(h, APP));
    const t2 = tokenOf(await classicToken(h, APP2));
    h.sb.injectFault({ appid: APP2.appid, errcode: 48001, times: 1 });
    expect(await useToken(h, t1)).to.equal(0);
    expect(await useToken(h, t2)).to.equal(48001);
    expect(await useToken(h, t2)).to.equal(0);
  });

  it('applies before the token check (a fault wins over 40001)', async () => {
    h.sb.injectFault({ endpoint: '/wxa/generate_urllink', errcode: 45009, times: 1 });
    expect(await useToken(h, 'nonsense')).to.equal(45009);
    expect(await useToken(h, 'nonsense')).to.equal(40001);
  });

  it('delays with real time, then handles the call normally', async () => {
    h.sb.injectFault({ endpoint: '/cgi-bin/token', delayMs: 150, times: 1 });
    const t0 = Date.now();
    const r = await classicToken(h);
    expect(Date.now() - t0).to.be.at.least(140);
    expect(r.access_token).to.be.a('string');
    const t1 = Date.now();
    await classicToken(h);
    expect(Date.now() - t1).to.be.below(140);
  });

  it('delay plus errcode waits, then answers the error', async () => {
    h.sb.injectFault({ endpoint: '/cgi-bin/token', delayMs: 100, errcode: -1, times: 1 });
    const t0 = Date.now();
    expect((await classicToken(h)).errcode).to.equal(-1);
    expect(Date.now() - t0).to.be.at.least(90);
  });

  it('rejects malformed faults', () => {
    expect(() => h.sb.injectFault({ errcode: -1, times: 0 })).to.throw(TypeError);
    expect(() => h.sb.injectFault({ times: 1 })).to.throw(TypeError);
  });

  it('counts every call per endpoint and appid; resetCalls clears', async () => {
    await classicToken(h);
    await classicToken(h);
    await classicToken(h, APP2);
    await h.http.get('/cgi-bin/token', { params: { grant_type: 'client_credential' } });
    expect(h.sb.calls('/cgi-bin/token', APP.appid)).to.equal(2);
    expect(h.sb.calls('/cgi-bin/token', APP2.appid)).to.equal(1);
    expect(h.sb.calls('/cgi-bin/token', 'unknown')).to.equal(1);
    expect(h.sb.calls('/cgi-bin/token')).to.equal(4);
    expect(h.sb.calls('/cgi-bin/stable_token')).to.equal(0);
    expect(h.sb.callCounts()).to.deep.equal({ '/cgi-bin/token': { [APP.appid]: 2, [APP2.appid]: 1, unknown: 1 } });
    h.sb.resetCalls();
    expect(h.sb.calls('/cgi-bin/token')).to.equal(0);
  });
});
