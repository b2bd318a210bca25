import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { freePort } from '../../src/devstack/ports';
import { buildPush, samplePush } from '../../src/sandbox/push-simulator';
import { startHarness, type Harness } from '../support/harness';
import { runTenantsCli, startGateway, TEST_ADMIN_TOKEN, type GatewayProcess } from '../support/gateway-process';
import { WebhookReceiver } from '../support/webhook-receiver';
import { request } from '../support/http';
import { pollUntil } from '../support/gateway-helpers';
import { makeTenant, writeTenantFiles } from '../support/tenant-fixtures';

const hex = (n: number) => randomBytes(n).toString('hex');

describe('third-party platform mode (3 gateway processes + sandbox)', function () {
  this.timeout(120_000);
  let h: Harness;
  let hook: WebhookReceiver;
  let publicBase = '';
  const platform = {
    componentAppid: 'wx' + hex(8),
    name: 'Acme SaaS platform',
    secret: hex(16),
    token: 'acmeToken' + hex(3),
    aesKey: randomBytes(32).toString('base64').slice(0, 43),
  };
  const X = 'wx' + hex(8);
  let key = '';
  const events = () => `${publicBase}/platform/${platform.componentAppid}/events`;

  before(async () => {
    const port = await freePort();
    publicBase = `http://127.0.0.1:${port}`;
    h = await startHarness(1, { PORT: String(port), PUBLIC_BASE_URL: publicBase });
    for (let i = 0; i < 2; i++) h.fleet.push(await startGateway({ LOG_LEVEL: 'info', PUBLIC_BASE_URL: publicBase }));
    hook = new WebhookReceiver('webhook-secret-0123456789');
    await hook.start();
    h.sandbox.platform.registerPlatform({ ...platform, eventUrl: events() });
    const [file] = writeTenantFiles({ ...platform, apiBase: h.sbx.url, secret: 'env:ACME_SECRET', redirectOrigins: ['http://127.0.0.1:9'] });
    const cli = await runTenantsCli(['platforms', 'apply', file as string], { ACME_SECRET: platform.secret });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.contain(`${platform.componentAppid} created`);
    // The operator already knew the mini program (AppSecret days): its webhook and rules stay, its credential changes.
    const t = makeTenant({ appid: X, apiBase: h.sbx.url, webhook: { url: hook.url, secret: 'webhook-secret-0123456789' } });
    await h.stores.seed(t);
    key = await h.stores.key(X);
  });
  after(async () => {
    h.sandbox.platform.close();
    await h.close();
    await hook.stop();
  });

  const calls = (api: string, appid?: string) => h.sandbox.calls(api, appid);

  it('before a ticket: the authorization page answers 503 PLATFORM_TICKET_MISSING with Retry-After', async () => {
    const r = await request(`${h.url()}/platform/${platform.componentAppid}/authorize`, { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    expect([r.status, r.json.error.code]).to.deep.equal([503, 'PLATFORM_TICKET_MISSING']);
    expect(r.headers.get('retry-after')).to.equal('60');
  });

  it('ticket in -> authorization link -> approval -> callback and event -> the tenant becomes an authorizer of the platform', async () => {
    const ticket = await h.sandbox.platform.sendTicket(platform.componentAppid);
    expect([ticket.status, ticket.body]).to.deep.equal([200, 'success']);
    const link = await request(`${h.url(1)}/platform/${platform.componentAppid}/authorize?redirect=${encodeURIComponent('http://127.0.0.1:9/welcome')}`, {
      headers: { accept: 'application/json' },
      timeoutMs: 10_000,
    });
    expect(link.status, link.text).to.equal(200);
    const url = new URL(link.json.url as string);
    expect(url.pathname).to.equal('/cgi-bin/componentloginpage');
    expect(url.searchParams.get('component_appid')).to.equal(platform.componentAppid);
    expect(url.searchParams.get('auth_type')).to.equal('2');
    const backUri = new URL(url.searchParams.get('redirect_uri') as string);
    expect(backUri.origin + backUri.pathname).to.equal(`${publicBase}/platform/${platform.componentAppid}/authorized`);
    expect(backUri.searchParams.get('next')).to.equal('http://127.0.0.1:9/welcome');
    expect(backUri.searchParams.get('next_sig')).to.match(/^[A-Za-z0-9_-]{43}$/);
    const html = await request(`${h.url()}/platform/${platform.componentAppid}/authorize`, { headers: { accept: 'text/html' }, timeoutMs: 10_000 });
    expect(html.headers.get('content-type')).to.match(/^text\/html/);
    expect(html.text).to.contain('componentloginpage?component_appid=');
    expect(calls('/cgi-bin/component/api_component_token'), 'one component token for the fleet').to.equal(1);

    // The admin opens the page and approves; WeChat posts `authorized` and sends the browser back.
    expect((await request(url.toString(), { timeoutMs: 5000 })).status).to.equal(200);
    const approved = await h.sandbox.platform.authorize({ componentAppid: platform.componentAppid, preAuthCode: url.searchParams.get('pre_auth_code') as string, authorizerAppid: X });
    expect([approved.event.status, approved.event.responseBody]).to.deep.equal([200, 'success']);
    const back = await request(approved.redirect as string, { redirect: 'manual', timeoutMs: 10_000 });
    expect(back.status, back.text).to.equal(302);
    expect(back.headers.get('location')).to.equal(`http://127.0.0.1:9/welcome?appid=${X}`);
    expect(calls('/cgi-bin/component/api_query_auth'), 'the code is exchanged once, by whichever came first').to.equal(1);

    const tenant = await h.stores.repo.find(X);
    expect(tenant).to.deep.include({ credential: 'authorizer', component: platform.componentAppid, tokenMode: 'authorizer', status: 'active' });
    expect(tenant?.secret).to.equal(undefined);
    expect((tenant?.webhook as { url: string }).url).to.equal(hook.url);
    const raw = await h.stores.conn.collection('authorizers').findOne({ componentAppid: platform.componentAppid, appid: X });
    expect(raw?.status).to.equal('authorized');
    expect(String(raw?.refreshToken)).to.match(/^v2\./);
    expect(JSON.stringify(raw)).to.not.contain(h.sandbox.platform.authorizers(platform.componentAppid)[0]?.refreshToken);
  });

  it('the authorizer token serves 3 gateway instances with exactly 1 upstream fetch', async () => {
    const before = calls('/cgi-bin/component/api_authorizer_token', X);
    const answers = await Promise.all([0, 1, 2, 0, 1, 2].map((g) => h.req('POST', `/${X}/links/scheme`, { auth: key, gateway: g, json: { path: 'pages/index/index' } })));
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 200, 200]);
    expect(calls('/cgi-bin/component/api_authorizer_token', X) - before).to.equal(1);
    const central = await h.req('GET', `/${X}/access-token`, { auth: key, gateway: 2 });
    expect(central.status).to.equal(200);
    expect(calls('/cgi-bin/component/api_authorizer_token', X) - before).to.equal(1);
  });

  it('a push through the platform URL reaches the tenant webhook; a push signed with another key does not', async () => {
    const push = buildPush({ appid: platform.componentAppid, token: platform.token, aesKey: platform.aesKey }, samplePush('text', { content: 'hello via platform' }), {
      format: 'xml',
      mode: 'safe',
    });
    const url = `${h.url(2)}/platform/${platform.componentAppid}/${X}/portal?${new URLSearchParams(push.query).toString()}`;
    const r = await request(url, { method: 'POST', headers: { 'content-type': push.contentType }, body: push.body, timeoutMs: 10_000 });
    expect([r.status, r.text]).to.deep.equal([200, 'success']);
    await pollUntil(async () => hook.deliveries.some((d) => d.body.appid === X && d.body.message.content === 'hello via platform'), { withinMs: 10_000, what: 'webhook delivery' });
    const own = buildPush({ appid: X, token: 'tokenOfTheAppItself', aesKey: randomBytes(32).toString('base64').slice(0, 43) }, samplePush('text'), { format: 'xml', mode: 'safe' });
    const forged = await request(`${h.url()}/platform/${platform.componentAppid}/${X}/portal?${new URLSearchParams(own.query).toString()}`, {
      method: 'POST',
      headers: { 'content-type': own.contentType },
      body: own.body,
      timeoutMs: 10_000,
    });
    expect([forged.status, forged.json.error.code]).to.deep.equal([401, 'INVALID_SIGNATURE']);
    const unknown = await request(`${h.url()}/platform/${platform.componentAppid}/wx${hex(8)}/portal?${new URLSearchParams(push.query).toString()}`, {
      method: 'POST',
      body: push.body,
      timeoutMs: 10_000,
    });
    expect([unknown.status, unknown.json.error.code]).to.deep.equal([404, 'TENANT_NOT_FOUND']);
  });

  it('users log in through /sns/component/jscode2session with the component token', async () => {
    const before = calls('/sns/component/jscode2session', X);
    const r = await h.login(X, 'test:alice', 1);
    expect(r.status, r.text).to.equal(200);
    expect(r.json.openid).to.be.a('string');
    expect(calls('/sns/component/jscode2session', X) - before).to.equal(1);
    expect(calls('/sns/jscode2session', X)).to.equal(0);
  });

  it('a revoked refresh token ends in 403 REAUTHORIZATION_REQUIRED (no retry loop); platforms sync restores it', async () => {
    h.sandbox.platform.revokeRefreshToken(platform.componentAppid, X);
    // Another environment also refreshed: the access token every gateway holds is dead too, so each must renew.
    h.sandbox.revokeToken(X);
    const before = calls('/cgi-bin/component/api_authorizer_token', X);
    for (const g of [0, 1, 2]) {
      const r = await h.req('POST', `/${X}/links/scheme`, { auth: key, gateway: g, json: { path: 'pages/index/index' } });
      expect([r.status, r.json.error?.code], `gateway ${g}`).to.deep.equal([403, 'REAUTHORIZATION_REQUIRED']);
    }
    expect(calls('/cgi-bin/component/api_authorizer_token', X) - before, 'one refusal, no retries').to.equal(1);
    const raw = await h.stores.conn.collection('authorizers').findOne({ componentAppid: platform.componentAppid, appid: X });
    expect(raw?.status).to.equal('reauthorization_required');
    const metrics = await request(`${h.url()}/metrics`, { timeoutMs: 5000 });
    expect(metrics.text).to.match(new RegExp(`wxgate_platform_reauthorization_required_total\\{component="${platform.componentAppid}",appid="${X}"\\} 1`));
    expect(h.fleet[0]?.output()).to.match(/"audit":true.*reauthorization required/);
    const audit = await request(`${h.url()}/admin/audit?appid=${X}`, { auth: TEST_ADMIN_TOKEN, timeoutMs: 5000 });
    expect((audit.json.entries as { action: string; actor: string }[]).map((e) => `${e.actor} ${e.action}`)).to.include.members([
      `wechat:${platform.componentAppid} authorizer.reauthorization_required`,
      `wechat:${platform.componentAppid} authorizer.authorized`,
    ]);

    const sync = await runTenantsCli(['platforms', 'sync', platform.componentAppid], { WECHAT_API_BASE: h.sbx.url });
    expect(sync.code, sync.stderr).to.equal(0);
    expect(sync.stdout).to.contain(`${X} restored`);
    for (const g of [0, 1, 2]) {
      await pollUntil(async () => (await h.req('POST', `/${X}/links/scheme`, { auth: key, gateway: g, json: { path: 'pages/index/index' } })).status === 200, {
        withinMs: 10_000,
        what: `gateway ${g} serves ${X} again`,
      });
    }
  });

  it('Redis flushed mid-run: no re-authorization; the ticket comes back from MongoDB and each token is fetched once', async () => {
    await h.redis.flushall();
    // Every gateway drops its in-process copies when told the credential changed; a FLUSHALL tells nobody, so wait them out.
    const componentBefore = calls('/cgi-bin/component/api_component_token');
    const authorizerBefore = calls('/cgi-bin/component/api_authorizer_token', X);
    await new Promise((r) => setTimeout(r, 100));
    const r = await h.req('POST', `/${X}/auth/login`, { json: { code: 'test:bob' }, gateway: 2 });
    expect(r.status, r.text).to.equal(200);
    const link = await request(`${h.url(1)}/platform/${platform.componentAppid}/authorize`, { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    expect(link.status, link.text).to.equal(200);
    // A process without a component token in memory (the CLI) must fetch one: the ticket for it comes from MongoDB.
    const sync = await runTenantsCli(['platforms', 'sync', platform.componentAppid], { WECHAT_API_BASE: h.sbx.url });
    expect(sync.code, sync.stderr).to.equal(0);
    expect(await h.redis.exists(`wxgate:ticket:${platform.componentAppid}`), 'the ticket is back in Redis').to.equal(1);
    expect(calls('/cgi-bin/component/api_component_token') - componentBefore, 'one component token for the fleet after the flush').to.equal(1);
    const answers = await Promise.all([0, 1, 2].map((g) => h.req('GET', `/${X}/access-token`, { auth: key, gateway: g })));
    expect(
      answers.map((a) => a.status),
      answers.map((a) => a.text).join(' '),
    ).to.deep.equal([200, 200, 200]);
    expect(calls('/cgi-bin/component/api_authorizer_token', X) - authorizerBefore).to.be.at.most(1);
    const raw = await h.stores.conn.collection('authorizers').findOne({ componentAppid: platform.componentAppid, appid: X });
    expect(raw?.status).to.equal('authorized');
  });

  it('unauthorized disables the tenant; authorizing again enables it', async () => {
    const ev = await h.sandbox.platform.unauthorize(platform.componentAppid, X);
    expect([ev.status, ev.responseBody]).to.deep.equal([200, 'success']);
    await pollUntil(async () => (await h.req('GET', `/${X}`, { gateway: 1 })).status === 403, { withinMs: 10_000, what: 'tenant disabled everywhere' });
    const link = await request(`${h.url()}/platform/${platform.componentAppid}/authorize`, { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    const pre = new URL(link.json.url as string).searchParams.get('pre_auth_code') as string;
    const again = await h.sandbox.platform.authorize({ componentAppid: platform.componentAppid, preAuthCode: pre, authorizerAppid: X });
    expect(again.event.status).to.equal(200);
    await pollUntil(async () => (await h.req('GET', `/${X}`, { gateway: 2 })).status === 200, { withinMs: 10_000, what: 'tenant enabled again' });
  });

  it('platform events are verified: forged, stale, other-platform and malformed events change nothing', async () => {
    const url = events();
    const post = (query: Record<string, string>, body: string) =>
      request(`${url}?${new URLSearchParams(query).toString()}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body, timeoutMs: 5000 });
    const good = h.sandbox.platform.events().find((e) => e.infoType === 'component_verify_ticket')!;
    const forged = await post({ ...good.query, msg_signature: '0'.repeat(40) }, good.body);
    expect([forged.status, forged.json.error.code]).to.deep.equal([401, 'INVALID_SIGNATURE']);
    const stale = await post(good.query, good.body);
    // The same signed event again inside the window is harmless (an older ticket never replaces a newer one); outside it, refused.
    expect([200, 401]).to.include(stale.status);
    for (const body of ['', 'not xml', '<xml><Encrypt>AAAA</Encrypt><Encrypt>BBBB</Encrypt></xml>', '<!DOCTYPE x [<!ENTITY e "x">]><xml><Encrypt>&e;</Encrypt></xml>']) {
      const r = await post(good.query, body);
      expect(r.status, body).to.be.within(400, 499);
      expect(r.json.error.code).to.be.a('string');
    }
    const noQuery = await post({}, good.body);
    expect([noQuery.status, noQuery.json.error.code]).to.deep.equal([400, 'INVALID_QUERY']);
    const other = await request(`${publicBase}/platform/wx${hex(8)}/events?${new URLSearchParams(good.query).toString()}`, { method: 'POST', body: good.body, timeoutMs: 5000 });
    expect([other.status, other.json.error.code]).to.deep.equal([404, 'PLATFORM_NOT_FOUND']);
    const badCode = await request(`${h.url()}/platform/${platform.componentAppid}/authorized?auth_code=queryauthcode@@@forged`, { timeoutMs: 10_000 });
    expect([badCode.status, badCode.json.error.code]).to.deep.equal([400, 'AUTHORIZATION_FAILED']);
    const badRedirect = await request(`${h.url()}/platform/${platform.componentAppid}/authorize?redirect=javascript:alert(1)`, { timeoutMs: 10_000 });
    expect([badRedirect.status, badRedirect.json.error.code]).to.deep.equal([400, 'INVALID_QUERY']);
    for (const g of h.fleet as GatewayProcess[]) {
      expect(g.output()).to.not.contain(platform.secret);
      expect(g.output()).to.not.contain(platform.aesKey);
    }
  });
});
