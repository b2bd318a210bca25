import { expect } from 'chai';
import { APP, APP2, type Harness, MIN, startSandbox, type WxBody } from './helpers';

describe('sandbox: /sns/jscode2session', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startSandbox();
  });
  afterEach(() => h.close());

  const login = async (code: string, app = APP, extra: Record<string, string> = {}): Promise<WxBody> =>
    (
      await h.http.get<WxBody>('/sns/jscode2session', {
        params: { appid: app.appid, secret: app.secret, js_code: code, grant_type: 'authorization_code', ...extra },
      })
    ).data;

  it('exchanges an issued code once for openid, session_key and unionid', async () => {
    const code = h.sb.issueLoginCode(APP.appid, { openid: 'o_alice', unionid: 'u_alice' });
    const r = await login(code);
    expect(r.errcode).to.equal(undefined);
    expect(r.openid).to.equal('o_alice');
    expect(r.unionid).to.equal('u_alice');
    expect(Buffer.from(r.session_key as string, 'base64')).to.have.length(16);
    expect(h.sb.sessionKeyOf(APP.appid, 'o_alice')).to.equal(r.session_key);
    const again = await login(code);
    expect(again.errcode).to.equal(40163);
    expect(again.errmsg).to.match(/^code been used rid: /);
  });

  it('has no unionid unless given; default openids differ per code', async () => {
    const a = await login(h.sb.issueLoginCode(APP.appid));
    const b = await login(h.sb.issueLoginCode(APP.appid));
    expect(a).to.not.have.property('unionid');
    expect(a.openid).to.be.a('string').and.not.equal(b.openid);
  });

  it('uses the given session key', async () => {
    const key = Buffer.alloc(16, 7).toString('base64');
    const r = await login(h.sb.issueLoginCode(APP.appid, { openid: 'o_k', sessionKey: key }));
    expect(r.session_key).to.equal(key);
  });

  it('expires codes after 5 minutes (40029) and rejects unknown codes (40029)', async () => {
    const c1 = h.sb.issueLoginCode(APP.appid);
    const c2 = h.sb.issueLoginCode(APP.appid);
    h.clock.advance(5 * MIN - 1);
    expect((await login(c1)).openid).to.be.a('string');
    h.clock.advance(1);
    const r = await login(c2);
    expect(r.errcode).to.equal(40029);
    expect(r.errmsg).to.match(/^invalid code rid: /);
    expect((await login('never-issued')).errcode).to.equal(40029);
  });

  it('a code of one app is invalid for another', async () => {
    const c = h.sb.issueLoginCode(APP.appid);
    expect((await login(c, APP2)).errcode).to.equal(40029);
  });

  it('answers the errcode a code was issued with (40226, 45011)', async () => {
    expect((await login(h.sb.issueLoginCode(APP.appid, { errcode: 40226 }))).errcode).to.equal(40226);
    expect((await login(h.sb.issueLoginCode(APP.appid, { errcode: 45011 }))).errcode).to.equal(45011);
  });

  it('each login replaces the user session key', async () => {
    const r1 = await login(h.sb.issueLoginCode(APP.appid, { openid: 'o_bob' }));
    const r2 = await login(h.sb.issueLoginCode(APP.appid, { openid: 'o_bob' }));
    expect(r2.session_key).to.not.equal(r1.session_key);
    expect(h.sb.sessionKeyOf(APP.appid, 'o_bob')).to.equal(r2.session_key);
    expect(h.sb.sessionKeyOf(APP2.appid, 'o_bob')).to.equal(undefined);
  });

  it('accepts test:<name> codes without issue; each use is a new login', async () => {
    const r1 = await login('test:carol');
    expect(r1.openid).to.equal(`o_${APP.appid}_carol`);
    expect(h.sb.sessionKeyOf(APP.appid, r1.openid as string)).to.equal(r1.session_key);
    const r2 = await login('test:carol');
    expect(r2.openid).to.equal(r1.openid);
    expect(r2.session_key).to.not.equal(r1.session_key);
    expect(h.sb.sessionKeyOf(APP.appid, r1.openid as string)).to.equal(r2.session_key);
    expect((await login('test:')).errcode).to.equal(40029);
  });

  it('checks appid/secret/grant_type/js_code', async () => {
    expect((await login('test:x', { appid: 'wxnope', secret: 'x' })).errcode).to.equal(40013);
    expect((await login('test:x', { appid: APP.appid, secret: 'bad' })).errcode).to.equal(40125);
    expect((await login('test:x', APP, { grant_type: 'client_credential' })).errcode).to.equal(40002);
    expect((await login('', APP)).errcode).to.equal(41008);
    expect(h.sb.calls('/sns/jscode2session', APP.appid)).to.equal(3);
    expect(h.sb.calls('/sns/jscode2session', 'wxnope')).to.equal(1);
  });
});
