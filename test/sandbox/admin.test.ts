import { expect } from 'chai';
import { systemClock } from '../../src/kernel/clock';
import { createSandbox } from '../../src/sandbox';
import axios from 'axios';
import { APP, classicToken, type Harness, MIN, startSandbox, tokenOf, useToken } from './helpers';

describe('sandbox: admin HTTP API (/__sandbox)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startSandbox();
  });
  afterEach(() => h.close());

  it('GET /calls lists counters; ?endpoint&appid answers one count; admin calls are not counted', async () => {
    await classicToken(h);
    const all = await h.http.get('/__sandbox/calls');
    expect(all.status).to.equal(200);
    expect(all.data).to.deep.equal({ calls: { '/cgi-bin/token': { [APP.appid]: 1 } } });
    const one = await h.http.get('/__sandbox/calls', { params: { endpoint: '/cgi-bin/token', appid: APP.appid } });
    expect(one.data.count).to.equal(1);
  });

  it('POST /reset clears counters, faults and recorded messages', async () => {
    const t = tokenOf(await classicToken(h));
    await h.http.post('/cgi-bin/message/custom/send', { touser: 'o', msgtype: 'text', text: { content: 'x' } }, { params: { access_token: t } });
    h.sb.injectFault({ errcode: -1, times: 5 });
    expect((await h.http.post('/__sandbox/reset')).status).to.equal(200);
    expect(h.sb.callCounts()).to.deep.equal({});
    expect(h.sb.pendingFaults()).to.deep.equal([]);
    expect(h.sb.sentMessages('custom')).to.deep.equal([]);
    expect(await useToken(h, t)).to.equal(0); // tokens survive a reset
  });

  it('POST /faults injects a fault (times defaults to 1); bad bodies are 400', async () => {
    const r = await h.http.post('/__sandbox/faults', { endpoint: '/cgi-bin/token', errcode: -1 });
    expect(r.status).to.equal(201);
    expect((await classicToken(h)).errcode).to.equal(-1);
    expect((await classicToken(h)).access_token).to.be.a('string');
    expect((await h.http.post('/__sandbox/faults', { errcode: 'x' })).status).to.equal(400);
    expect((await h.http.post('/__sandbox/faults', { times: 2 })).status).to.equal(400);
    expect((await h.http.post('/__sandbox/faults', '{oops', { headers: { 'content-type': 'application/json' } })).status).to.equal(400);
  });

  it('POST /apps registers an app usable at once', async () => {
    expect((await h.http.post('/__sandbox/apps', { appid: 'wxnew', secret: 's' })).status).to.equal(201);
    const r = await h.http.get('/cgi-bin/token', { params: { grant_type: 'client_credential', appid: 'wxnew', secret: 's' } });
    expect(r.data.access_token).to.be.a('string');
    expect((await h.http.post('/__sandbox/apps', { appid: 'wxnew' })).status).to.equal(400);
  });

  it('POST /tokens/:appid/rotate and /revoke', async () => {
    const t = tokenOf(await classicToken(h));
    const rot = await h.http.post(`/__sandbox/tokens/${APP.appid}/rotate`);
    expect(rot.data.access_token).to.be.a('string');
    h.clock.advance(5 * MIN);
    expect(await useToken(h, t)).to.equal(40001);
    expect(await useToken(h, rot.data.access_token)).to.equal(0);
    expect((await h.http.post(`/__sandbox/tokens/${APP.appid}/revoke`)).status).to.equal(200);
    expect(await useToken(h, rot.data.access_token)).to.equal(40001);
    expect((await h.http.post('/__sandbox/tokens/wxnope/revoke')).status).to.equal(404);
  });

  it('POST /login-codes and GET /session-keys', async () => {
    const r = await h.http.post('/__sandbox/login-codes', { appid: APP.appid, openid: 'o_admin', unionid: 'u1' });
    expect(r.status).to.equal(201);
    const s = await h.http.get('/sns/jscode2session', {
      params: { appid: APP.appid, secret: APP.secret, js_code: r.data.code, grant_type: 'authorization_code' },
    });
    expect(s.data).to.include({ openid: 'o_admin', unionid: 'u1' });
    const k = await h.http.get(`/__sandbox/session-keys/${APP.appid}/o_admin`);
    expect(k.data.session_key).to.equal(s.data.session_key);
    expect((await h.http.get(`/__sandbox/session-keys/${APP.appid}/o_nobody`)).status).to.equal(404);
    const blocked = await h.http.post('/__sandbox/login-codes', { appid: APP.appid, errcode: 40226 });
    const b = await h.http.get('/sns/jscode2session', {
      params: { appid: APP.appid, secret: APP.secret, js_code: blocked.data.code, grant_type: 'authorization_code' },
    });
    expect(b.data.errcode).to.equal(40226);
    expect((await h.http.post('/__sandbox/login-codes', { appid: 'wxnope' })).status).to.equal(404);
  });

  it('POST /phone-codes', async () => {
    const t = tokenOf(await classicToken(h));
    const r = await h.http.post('/__sandbox/phone-codes', { appid: APP.appid, phone: '13912345678' });
    expect(r.status).to.equal(201);
    const p = await h.http.post('/wxa/business/getuserphonenumber', { code: r.data.code }, { params: { access_token: t } });
    expect(p.data.phone_info.purePhoneNumber).to.equal('13912345678');
    expect((await h.http.post('/__sandbox/phone-codes', { appid: APP.appid, phone: 'abc' })).status).to.equal(400);
  });

  it('GET /messages/:kind', async () => {
    const t = tokenOf(await classicToken(h));
    const body = { touser: 'o', template_id: 'T', data: { a: { value: '1' } } };
    await h.http.post('/cgi-bin/message/subscribe/send', body, { params: { access_token: t } });
    const r = await h.http.get('/__sandbox/messages/subscribe');
    expect(r.data.messages).to.have.length(1);
    expect(r.data.messages[0]).to.include({ appid: APP.appid });
    expect(r.data.messages[0].body).to.deep.equal(body);
    expect((await h.http.get('/__sandbox/messages/nope')).status).to.equal(404);
  });

  it('POST /risky-words replaces the word list', async () => {
    const t = tokenOf(await classicToken(h));
    await h.http.post('/__sandbox/risky-words', { words: ['durian'] });
    const r = await h.http.post('/wxa/msg_sec_check', { content: 'I like Durian', version: 2, scene: 1, openid: 'o' }, { params: { access_token: t } });
    expect(r.data.result.suggest).to.equal('risky');
  });

  it('POST /clock/advance moves a ManualClock', async () => {
    const before = h.clock.now();
    const r = await h.http.post('/__sandbox/clock/advance', { ms: 1234 });
    expect(r.data.now).to.equal(before + 1234);
    expect(h.clock.now()).to.equal(before + 1234);
    expect((await h.http.post('/__sandbox/clock/advance', { ms: -1 })).status).to.equal(400);
  });

  it('POST /clock/advance answers 409 with the system clock; unknown paths 404', async () => {
    const sb = createSandbox({ clock: systemClock });
    const srv = await sb.listen();
    try {
      const http = axios.create({ baseURL: srv.url, validateStatus: () => true, proxy: false });
      expect((await http.post('/__sandbox/clock/advance', { ms: 1 })).status).to.equal(409);
      expect((await http.get('/__sandbox/health')).data.ok).to.equal(true);
      const nf = await http.get('/cgi-bin/nope');
      expect(nf.status).to.equal(404);
      expect(nf.data.errcode).to.equal(-1);
    } finally {
      await srv.close();
    }
  });
});
