import { expect } from 'chai';
import { APP, type Harness, MIN, SEC, startSandbox, T0, useToken, type WxBody } from './helpers';
import { AUTHORIZER, component, componentToken, type EventServer, openEvent, PLATFORM, PLATFORM2, startEventServer, str, xmlField } from './platform-helpers';

const HOUR = 60 * MIN;
const C = PLATFORM.componentAppid;

describe('sandbox: third-party platform (component) APIs', function () {
  this.timeout(10_000);
  let h: Harness;
  let ev: EventServer;

  beforeEach(async () => {
    h = await startSandbox();
    ev = await startEventServer();
    h.sb.platform.registerPlatform({ ...PLATFORM, eventUrl: ev.url });
  });
  afterEach(async () => {
    await h.close();
    await ev.close();
  });

  async function ctoken(): Promise<string> {
    const { ticket } = await h.sb.platform.sendTicket(C);
    return str(await componentToken(h, ticket), 'component_access_token');
  }

  async function preAuthCode(ct: string): Promise<string> {
    return str(await component(h, 'api_create_preauthcode', ct, { component_appid: C }), 'pre_auth_code');
  }

  /** Authorizes `authorizer`, redeems the code; returns the authorization_info. */
  async function authorized(ct: string, authorizer = AUTHORIZER): Promise<{ token: string; refresh: string; info: Record<string, unknown> }> {
    const { authCode } = await h.sb.platform.authorize({ componentAppid: C, preAuthCode: await preAuthCode(ct), authorizerAppid: authorizer });
    const r = await component(h, 'api_query_auth', ct, { component_appid: C, authorization_code: authCode });
    const info = r.authorization_info as Record<string, unknown>;
    return { token: info.authorizer_access_token as string, refresh: info.authorizer_refresh_token as string, info };
  }

  const refresh = (ct: string, refreshToken: string, authorizer = AUTHORIZER): Promise<WxBody> =>
    component(h, 'api_authorizer_token', ct, { component_appid: C, authorizer_appid: authorizer, authorizer_refresh_token: refreshToken });

  const list = (ct: string, count = 100, offset = 0): Promise<WxBody> => component(h, 'api_get_authorizer_list', ct, { component_appid: C, offset, count });

  describe('component_verify_ticket', () => {
    it('posts the ticket encrypted for the component appid, signed with the platform token', async () => {
      const r = await h.sb.platform.sendTicket(C);
      expect(r.ticket).to.match(/^ticket@@@[\w-]{20,}$/);
      expect(r.status).to.equal(200);
      expect(r.body).to.equal('success');
      expect(h.sb.platform.currentTicket(C)).to.equal(r.ticket);
      expect(ev.received).to.have.length(1);
      const e = ev.received[0];
      expect(Object.keys(e.query).sort()).to.deep.equal(['encrypt_type', 'msg_signature', 'nonce', 'signature', 'timestamp']);
      expect(e.query.timestamp).to.equal(String(T0 / 1000));
      expect(e.body).to.match(/^<xml><AppId><!\[CDATA\[wx0c0c0c0c0c0c0c01\]\]><\/AppId><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><\/xml>$/);
      const { xml, appid } = openEvent(e);
      expect(appid).to.equal(C);
      expect(xmlField(xml, 'AppId')).to.equal(C);
      expect(xmlField(xml, 'CreateTime')).to.equal(String(T0 / 1000));
      expect(xmlField(xml, 'InfoType')).to.equal('component_verify_ticket');
      expect(xmlField(xml, 'ComponentVerifyTicket')).to.equal(r.ticket);
      const [rec] = h.sb.platform.events();
      expect(rec).to.include({ componentAppid: C, infoType: 'component_verify_ticket', url: ev.url, status: 200, responseBody: 'success', plaintext: xml });
    });

    it('records a ticket even without an event URL, and pushes tickets periodically when asked', async () => {
      h.sb.platform.registerPlatform(PLATFORM2);
      const r = await h.sb.platform.sendTicket(PLATFORM2.componentAppid);
      expect(r.status).to.equal(0);
      expect(h.sb.platform.events().at(-1)).to.include({ url: '', status: 0 });
      h.sb.platform.setEventUrl(PLATFORM2.componentAppid, ev.url);
      h.sb.platform.startTickets(PLATFORM2.componentAppid, 20);
      await ev.waitFor(2);
      h.sb.platform.stopTickets(PLATFORM2.componentAppid);
      const tickets = ev.received.map((e) => xmlField(openEvent(e, PLATFORM2).xml, 'ComponentVerifyTicket'));
      expect(new Set(tickets).size).to.equal(tickets.length);
    });

    it('rejects malformed platforms', () => {
      const bad = [{ componentAppid: 'wx123' }, { secret: 'short' }, { aesKey: 'x'.repeat(42) }, { token: 'a' }, { eventUrl: 'ftp://x' }];
      for (const b of bad) expect(() => h.sb.platform.registerPlatform({ ...PLATFORM, ...b })).to.throw(TypeError);
    });
  });

  describe('api_component_token', () => {
    it('issues a token for a valid ticket and secret; errcodes 40125, 41004, 61011, 61006, 61005', async () => {
      const { ticket: t1 } = await h.sb.platform.sendTicket(C);
      const ok = await componentToken(h, t1);
      expect(ok.component_access_token).to.be.a('string');
      expect(ok.expires_in).to.equal(7200);
      expect((await componentToken(h, t1, { ...PLATFORM, secret: 'f'.repeat(32) })).errcode).to.equal(40125);
      expect((await component(h, 'api_component_token', undefined, { component_appid: C, component_verify_ticket: t1 })).errcode).to.equal(41004);
      expect((await componentToken(h, t1, { ...PLATFORM, componentAppid: 'wx0c0c0c0c0c0c0cff' })).errcode).to.equal(61011);
      const bad = await componentToken(h, 'ticket@@@nope');
      expect(bad.errcode).to.equal(61006);
      expect(bad.errmsg).to.match(/^component ticket is invalid rid: /);
      h.sb.platform.registerPlatform(PLATFORM2);
      const { ticket: other } = await h.sb.platform.sendTicket(PLATFORM2.componentAppid);
      expect((await componentToken(h, other)).errcode).to.equal(61006);
      // a newer ticket leaves the older one valid until it expires (12 h)
      h.clock.advance(6 * HOUR);
      const { ticket: t2 } = await h.sb.platform.sendTicket(C);
      expect((await componentToken(h, t1)).errcode).to.equal(undefined);
      h.clock.advance(6 * HOUR);
      const expired = await componentToken(h, t1);
      expect(expired.errcode).to.equal(61005);
      expect(expired.errmsg).to.match(/^component ticket is expired rid: /);
      expect((await componentToken(h, t2)).errcode).to.equal(undefined);
      expect(h.sb.calls('/cgi-bin/component/api_component_token', C)).to.equal(8);
      expect(h.sb.calls('/cgi-bin/component/api_component_token', 'wx0c0c0c0c0c0c0cff')).to.equal(1);
    });

    it('keeps the previous component token 5 minutes; tokens expire (42001); 41001 without one', async () => {
      const a = await ctoken();
      const b = await ctoken();
      expect(a).to.not.equal(b);
      const use = async (t?: string): Promise<number | undefined> => (await component(h, 'api_create_preauthcode', t, { component_appid: C })).errcode;
      expect(await use(a)).to.equal(undefined);
      h.clock.advance(5 * MIN);
      expect(await use(a)).to.equal(40001);
      expect(await use(b)).to.equal(undefined);
      expect(await use(undefined)).to.equal(41001);
      expect(await use('bogus')).to.equal(40001);
      // a token of another platform does not serve this one
      h.sb.platform.registerPlatform(PLATFORM2);
      const { ticket } = await h.sb.platform.sendTicket(PLATFORM2.componentAppid);
      const other = str(await componentToken(h, ticket, PLATFORM2), 'component_access_token');
      expect(await use(other)).to.equal(61011);
      h.clock.advance(2 * HOUR);
      expect(await use(b)).to.equal(42001);
      // a component token is not an access_token of any mini program
      expect(await useToken(h, b)).to.equal(40001);
    });
  });

  describe('authorization', () => {
    it('pre_auth_code -> login page -> authorized event -> api_query_auth -> authorizer token on mp APIs -> api_authorizer_token', async () => {
      const ct = await ctoken();
      const pre = await component(h, 'api_create_preauthcode', ct, { component_appid: C });
      expect(pre.pre_auth_code).to.match(/^preauthcode@@@/);
      expect(pre.expires_in).to.equal(1800);
      const page = await h.http.get<string>('/cgi-bin/componentloginpage', {
        params: { component_appid: C, pre_auth_code: pre.pre_auth_code, redirect_uri: 'https://tp.example/cb?x=1', auth_type: 2 },
        responseType: 'text',
      });
      expect(page.headers['content-type']).to.match(/^text\/html/);
      expect(page.data).to.contain('<html');

      const res = await h.sb.platform.authorize({ componentAppid: C, preAuthCode: pre.pre_auth_code as string, authorizerAppid: AUTHORIZER, funcIds: [17, 18] });
      expect(res.authCode).to.match(/^queryauthcode@@@/);
      expect(res.redirect).to.equal(`https://tp.example/cb?x=1&auth_code=${encodeURIComponent(res.authCode)}&expires_in=3600`);
      expect(res.event.status).to.equal(200);
      const { xml, appid } = openEvent(ev.received[1]);
      expect(appid).to.equal(C);
      expect(xmlField(xml, 'InfoType')).to.equal('authorized');
      expect(xmlField(xml, 'AuthorizerAppid')).to.equal(AUTHORIZER);
      expect(xmlField(xml, 'AuthorizationCode')).to.equal(res.authCode);
      expect(xmlField(xml, 'AuthorizationCodeExpiredTime')).to.equal(String(T0 / 1000 + 3600));
      expect(xmlField(xml, 'PreAuthCode')).to.equal(pre.pre_auth_code);
      // the pre_auth_code is consumed
      try {
        await h.sb.platform.authorize({ componentAppid: C, preAuthCode: pre.pre_auth_code as string, authorizerAppid: AUTHORIZER });
        expect.fail('a used pre_auth_code was accepted');
      } catch (e) {
        expect(e).to.be.instanceOf(TypeError);
      }

      const q = await component(h, 'api_query_auth', ct, { component_appid: C, authorization_code: res.authCode });
      const info = q.authorization_info as Record<string, unknown>;
      expect(info.authorizer_appid).to.equal(AUTHORIZER);
      expect(info.expires_in).to.equal(7200);
      expect(info.authorizer_refresh_token).to.match(/^refreshtoken@@@/);
      expect(info.func_info).to.deep.equal([{ funcscope_category: { id: 17 } }, { funcscope_category: { id: 18 } }]);
      const again = await component(h, 'api_query_auth', ct, { component_appid: C, authorization_code: res.authCode });
      expect(again.errcode).to.equal(61010);
      expect((await component(h, 'api_query_auth', ct, { component_appid: C, authorization_code: 'queryauthcode@@@nope' })).errcode).to.equal(61009);

      const token = info.authorizer_access_token as string;
      const scheme = await h.http.post<WxBody>('/wxa/generatescheme', {}, { params: { access_token: token } });
      expect(scheme.data.errcode).to.equal(0);
      expect(scheme.data.openlink).to.match(/^weixin:\/\//);
      expect(h.sb.calls('/wxa/generatescheme', AUTHORIZER)).to.equal(1);

      const r = await refresh(ct, info.authorizer_refresh_token as string);
      expect(r.expires_in).to.equal(7200);
      expect(r.authorizer_refresh_token).to.equal(info.authorizer_refresh_token);
      const token2 = str(r, 'authorizer_access_token');
      expect(token2).to.not.equal(token);
      expect(await useToken(h, token2)).to.equal(0);
      // the superseded authorizer token keeps working 5 minutes, like a classic token
      expect(await useToken(h, token)).to.equal(0);
      h.clock.advance(5 * MIN);
      expect(await useToken(h, token)).to.equal(40001);
      expect(await useToken(h, token2)).to.equal(0);
      expect(h.sb.calls('/cgi-bin/component/api_authorizer_token', AUTHORIZER)).to.equal(1);
      expect(h.sb.calls('/cgi-bin/component/api_query_auth', C)).to.equal(3);
      expect(h.sb.platform.authorizers(C)).to.deep.equal([{ authorizerAppid: AUTHORIZER, refreshToken: info.authorizer_refresh_token, funcIds: [17, 18], authTime: T0 }]);
    });

    it('an app registered with the sandbox keeps its own tokens beside the authorizer token', async () => {
      const ct = await ctoken();
      const own = str((await h.http.get<WxBody>('/cgi-bin/token', { params: { grant_type: 'client_credential', appid: APP.appid, secret: APP.secret } })).data, 'access_token');
      const { token } = await authorized(ct, APP.appid);
      expect(await useToken(h, own)).to.equal(0);
      expect(await useToken(h, token)).to.equal(0);
      await h.sb.platform.unauthorize(C, APP.appid);
      expect(await useToken(h, own)).to.equal(0);
      expect(await useToken(h, token)).to.equal(40001);
    });

    it('with rotateRefreshTokens, every refresh returns a new refresh token and the old one dies (61023)', async () => {
      h.sb.platform.setRotateRefreshTokens(C, true);
      const ct = await ctoken();
      const { refresh: r0 } = await authorized(ct);
      const a = await refresh(ct, r0);
      const r1 = str(a, 'authorizer_refresh_token');
      expect(r1).to.not.equal(r0);
      expect(await useToken(h, str(a, 'authorizer_access_token'))).to.equal(0);
      const stale = await refresh(ct, r0);
      expect(stale.errcode).to.equal(61023);
      expect(stale.errmsg).to.match(/^refresh_token is invalid rid: /);
      const b = await refresh(ct, r1);
      expect(str(b, 'authorizer_refresh_token')).to.not.equal(r1);
      expect((await list(ct)).list).to.deep.equal([{ authorizer_appid: AUTHORIZER, refresh_token: b.authorizer_refresh_token, auth_time: T0 / 1000 }]);
    });

    it('revokeRefreshToken: 61023, then api_get_authorizer_list gives a new refresh token that works', async () => {
      const ct = await ctoken();
      const { refresh: r0, token } = await authorized(ct);
      const fresh = h.sb.platform.revokeRefreshToken(C, AUTHORIZER);
      expect((await refresh(ct, r0)).errcode).to.equal(61023);
      expect(await useToken(h, token)).to.equal(0); // access tokens stay
      const l = await list(ct);
      expect(l.total_count).to.equal(1);
      const [entry] = l.list as { authorizer_appid: string; refresh_token: string; auth_time: number }[];
      expect(entry).to.deep.equal({ authorizer_appid: AUTHORIZER, refresh_token: fresh, auth_time: T0 / 1000 });
      const r = await refresh(ct, entry.refresh_token);
      expect(await useToken(h, str(r, 'authorizer_access_token'))).to.equal(0);
    });

    it('api_get_authorizer_list pages with offset and count (at most 500)', async () => {
      const ct = await ctoken();
      for (let i = 1; i <= 3; i++) {
        await authorized(ct, `wx00000000000000d${i}`);
        h.clock.advance(SEC);
      }
      const page = await list(ct, 2, 1);
      expect(page.total_count).to.equal(3);
      expect((page.list as { authorizer_appid: string }[]).map((x) => x.authorizer_appid)).to.deep.equal(['wx00000000000000d2', 'wx00000000000000d3']);
      expect((await list(ct, 501)).errcode).to.equal(47001);
      expect((await list(ct, 0)).errcode).to.equal(47001);
      expect((await list(ct, 500)).total_count).to.equal(3);
    });

    it('unauthorize posts `unauthorized`, kills the authorizer tokens (40001), the refresh token and the authorization', async () => {
      const ct = await ctoken();
      const { refresh: r0, token } = await authorized(ct);
      const code = (await h.sb.platform.updateAuthorization({ componentAppid: C, authorizerAppid: AUTHORIZER, funcIds: [17] })).authCode;
      expect(xmlField(openEvent(ev.received.at(-1) as (typeof ev.received)[0]).xml, 'InfoType')).to.equal('updateauthorized');
      const e = await h.sb.platform.unauthorize(C, AUTHORIZER);
      expect(e.status).to.equal(200);
      const { xml } = openEvent(ev.received.at(-1) as (typeof ev.received)[0]);
      expect(xmlField(xml, 'InfoType')).to.equal('unauthorized');
      expect(xmlField(xml, 'AuthorizerAppid')).to.equal(AUTHORIZER);
      expect(xmlField(xml, 'AuthorizationCode')).to.equal(undefined);
      expect(await useToken(h, token)).to.equal(40001);
      expect((await refresh(ct, r0)).errcode).to.equal(61003);
      expect((await component(h, 'api_query_auth', ct, { component_appid: C, authorization_code: code })).errcode).to.equal(61009);
      expect((await list(ct)).total_count).to.equal(0);
      expect(h.sb.platform.events().map((x) => x.infoType)).to.deep.equal(['component_verify_ticket', 'authorized', 'updateauthorized', 'unauthorized']);
    });

    it('codes and tokens expire by the sandbox clock', async () => {
      const ct = await ctoken();
      const stalePre = await preAuthCode(ct);
      h.clock.advance(30 * MIN);
      try {
        await h.sb.platform.authorize({ componentAppid: C, preAuthCode: stalePre, authorizerAppid: AUTHORIZER });
        expect.fail('an expired pre_auth_code was accepted');
      } catch (e) {
        expect((e as Error).message).to.match(/expired/);
      }
      const { authCode } = await h.sb.platform.authorize({ componentAppid: C, preAuthCode: await preAuthCode(ct), authorizerAppid: AUTHORIZER });
      h.clock.advance(HOUR);
      expect((await component(h, 'api_query_auth', ct, { component_appid: C, authorization_code: authCode })).errcode).to.equal(61010);

      // a simulated day: component and authorizer tokens expire (42001) and are renewed; the refresh token lasts
      const day = await h.sb.platform.updateAuthorization({ componentAppid: C, authorizerAppid: AUTHORIZER });
      const { ticket } = await h.sb.platform.sendTicket(C);
      let ct2 = str(await componentToken(h, ticket), 'component_access_token');
      const q = await component(h, 'api_query_auth', ct2, { component_appid: C, authorization_code: day.authCode });
      const rt = (q.authorization_info as Record<string, string>).authorizer_refresh_token;
      let at = (q.authorization_info as Record<string, string>).authorizer_access_token;
      for (let hour = 0; hour < 24; hour += 2) {
        h.clock.advance(2 * HOUR);
        expect(await useToken(h, at)).to.equal(42001);
        expect((await refresh(ct2, rt)).errcode).to.equal(42001);
        if (hour % 10 === 0) await h.sb.platform.sendTicket(C);
        ct2 = str(await componentToken(h, h.sb.platform.currentTicket(C) as string), 'component_access_token');
        at = str(await refresh(ct2, rt), 'authorizer_access_token');
        expect(await useToken(h, at)).to.equal(0);
      }
    });

    it('faults and counters apply to the platform endpoints', async () => {
      const ct = await ctoken();
      const { refresh: r0 } = await authorized(ct);
      h.sb.injectFault({ endpoint: '/cgi-bin/component/api_authorizer_token', appid: AUTHORIZER, errcode: -1, times: 1 });
      expect((await refresh(ct, r0)).errcode).to.equal(-1);
      expect((await refresh(ct, r0)).errcode).to.equal(undefined);
      h.sb.injectFault({ endpoint: '/cgi-bin/component/api_component_token', appid: C, errcode: 45009, times: 1 });
      expect((await componentToken(h, h.sb.platform.currentTicket(C) as string)).errcode).to.equal(45009);
      expect(h.sb.calls('/cgi-bin/component/api_authorizer_token', AUTHORIZER)).to.equal(2);
      expect(h.sb.calls('/cgi-bin/component/api_create_preauthcode', C)).to.equal(1);
    });
  });

  describe('/sns/component/jscode2session', () => {
    const login = async (ct: string, code: string, appid = AUTHORIZER, componentAppid = C): Promise<WxBody> =>
      (
        await h.http.get<WxBody>('/sns/component/jscode2session', {
          params: { appid, js_code: code, grant_type: 'authorization_code', component_appid: componentAppid, component_access_token: ct },
        })
      ).data;

    it('exchanges login codes of an authorized mini program; errcodes as jscode2session, 61003 when not authorized', async () => {
      const ct = await ctoken();
      expect((await login(ct, 'test:alice')).errcode).to.equal(61003);
      await authorized(ct);
      const code = h.sb.issueLoginCode(AUTHORIZER, { openid: 'o_alice', unionid: 'u_alice' });
      const r = await login(ct, code);
      expect(r.openid).to.equal('o_alice');
      expect(r.unionid).to.equal('u_alice');
      expect(h.sb.sessionKeyOf(AUTHORIZER, 'o_alice')).to.equal(r.session_key);
      expect((await login(ct, code)).errcode).to.equal(40163);
      expect((await login(ct, 'nope')).errcode).to.equal(40029);
      expect((await login(ct, 'test:bob')).openid).to.equal(`o_${AUTHORIZER}_bob`);
      expect((await login('bogus', 'test:bob')).errcode).to.equal(40001);
      expect(h.sb.calls('/sns/component/jscode2session', AUTHORIZER)).to.equal(6);
    });
  });

  describe('admin HTTP', () => {
    it('registers a platform, pushes a ticket, authorizes, revokes a refresh token, unauthorizes, lists events', async () => {
      const reg = await h.http.post('/__sandbox/platform/platforms', { ...PLATFORM2, eventUrl: ev.url });
      expect(reg.status).to.equal(201);
      const C2 = PLATFORM2.componentAppid;
      const t = await h.http.post<{ ticket: string; status: number }>(`/__sandbox/platform/${C2}/ticket`);
      expect(t.status).to.equal(200);
      expect(t.data.status).to.equal(200);
      const ct = str(await componentToken(h, t.data.ticket, PLATFORM2), 'component_access_token');
      const pre = str(await component(h, 'api_create_preauthcode', ct, { component_appid: C2 }), 'pre_auth_code');
      const a = await h.http.post<{ authCode: string; redirect: null }>(`/__sandbox/platform/${C2}/authorize`, { preAuthCode: pre, authorizerAppid: AUTHORIZER });
      expect(a.status).to.equal(200);
      expect(a.data.redirect).to.equal(null);
      expect((await h.http.post(`/__sandbox/platform/${C2}/authorize`, { preAuthCode: pre, authorizerAppid: AUTHORIZER })).status).to.equal(400);
      const rv = await h.http.post<{ refresh_token: string }>(`/__sandbox/platform/${C2}/revoke-refresh-token`, { authorizerAppid: AUTHORIZER });
      expect(rv.data.refresh_token).to.match(/^refreshtoken@@@/);
      const code = await h.http.post<{ code: string }>('/__sandbox/login-codes', { appid: AUTHORIZER });
      expect(code.status).to.equal(201);
      expect((await h.http.post(`/__sandbox/platform/${C2}/unauthorize`, { authorizerAppid: AUTHORIZER })).status).to.equal(200);
      expect((await h.http.post(`/__sandbox/platform/${C2}/unauthorize`, { authorizerAppid: AUTHORIZER })).status).to.equal(400);
      expect((await h.http.post('/__sandbox/platform/wx0c0c0c0c0c0c0cff/ticket')).status).to.equal(404);
      expect((await h.http.post('/__sandbox/platform/platforms', { ...PLATFORM2, secret: 'x' })).status).to.equal(400);
      const events = await h.http.get<{ events: { infoType: string }[] }>('/__sandbox/platform/events');
      expect(events.data.events.map((e) => e.infoType)).to.deep.equal(['component_verify_ticket', 'authorized', 'unauthorized']);
      await h.http.post('/__sandbox/reset');
      expect(h.sb.platform.events()).to.deep.equal([]);
    });
  });
});
