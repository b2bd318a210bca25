import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { freePort } from '../../src/devstack/ports';
import { buildEvent } from '../../src/sandbox';
import { buildPush, samplePush } from '../../src/sandbox/push-simulator';
import { startHarness, type Harness } from '../support/harness';
import { runTenantsCli } from '../support/gateway-process';
import { request, type HttpResult } from '../support/http';
import { makeTenant, writeTenantFiles, type TenantFixture } from '../support/tenant-fixtures';

const hex = (n: number) => randomBytes(n).toString('hex');
const aesKey = () => randomBytes(32).toString('base64').slice(0, 43);

/** A refusal as the project promises it: 4xx, JSON `{error: {code, message}}`, no stack trace or file path. */
function refused(r: HttpResult, status: number, code: string, what = ''): void {
  expect(r.status, `${what} ${r.text}`).to.equal(status);
  expect(r.headers.get('content-type') ?? '', what).to.match(/^application\/json/);
  expect(r.json?.error?.code, `${what} ${r.text}`).to.equal(code);
  expect(r.text, what).to.not.match(/:\d+:\d+\)|\.js:\d+|\.ts:\d+|\n\s*at |Error:/);
}

describe('third-party platform mode under hostile input (1 gateway + sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  let base = '';
  const A = { componentAppid: 'wx' + hex(8), name: '<script>alert("pwned")</script> & "Acme"', secret: hex(16), token: 'hostile' + hex(4), aesKey: aesKey() };
  const B = { componentAppid: 'wx' + hex(8), name: 'Other platform', secret: hex(16), token: 'other' + hex(4), aesKey: aesKey() };
  const X = 'wx' + hex(8); // authorized A through the page
  let xCode = '';
  const sbxPlatform = (p: typeof A) => ({ ...p, rotateRefreshTokens: false });
  const events = (c = A.componentAppid) => `${base}/platform/${c}/events`;
  const nowS = () => Math.floor(Date.now() / 1000);

  /** An event of A as WeChat would sign it (or, with `as`, with another platform's keys or appid). */
  const event = (fields: Record<string, string | number>, o: { as?: typeof A; timestamp?: number } = {}) =>
    buildEvent(sbxPlatform(o.as ?? A), { AppId: A.componentAppid, CreateTime: nowS(), ...fields }, o.timestamp ?? nowS(), String(1e9 + Math.floor(Math.random() * 9e9)));
  const post = (q: Record<string, string> | string, body: BodyInit, o: { url?: string; headers?: Record<string, string>; duplex?: 'half' } = {}) =>
    request(`${o.url ?? events()}?${typeof q === 'string' ? q : new URLSearchParams(q).toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', ...o.headers },
      body,
      ...(o.duplex ? { duplex: o.duplex } : {}),
      timeoutMs: 10_000,
    });

  /** Everything the refused requests could have changed. */
  const snapshot = async () => {
    const conn = h.stores.conn;
    return JSON.stringify({
      platforms: await conn
        .collection('platforms')
        .find({}, { projection: { _id: 0, updatedAt: 0 } })
        .sort({ componentAppid: 1 })
        .toArray(),
      authorizers: await conn
        .collection('authorizers')
        .find({}, { projection: { _id: 0 } })
        .sort({ appid: 1 })
        .toArray(),
      tenants: await conn.collection('tenants').countDocuments(),
      x: (await h.stores.repo.find(X))?.status,
      ticket: await h.redis.get(`wxgate:ticket:${A.componentAppid}`),
    });
  };
  const ticketAt = async () => (await h.stores.conn.collection('platforms').findOne({ componentAppid: A.componentAppid }))?.ticketAt as Date;
  const redisTicketAt = async () => Number(((await h.redis.get(`wxgate:ticket:${A.componentAppid}`)) ?? '0|').split('|')[0]);

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = await startHarness(1, { PORT: String(port), PUBLIC_BASE_URL: base });
    h.sandbox.platform.registerPlatform({ ...A, eventUrl: events() });
    h.sandbox.platform.registerPlatform({ ...B, eventUrl: events(B.componentAppid) });
    const [file] = writeTenantFiles([
      { ...A, apiBase: h.sbx.url, redirectOrigins: ['https://vendor.example'] },
      { ...B, apiBase: h.sbx.url },
    ]);
    const cli = await runTenantsCli(['platforms', 'apply', file as string]);
    expect(cli.code, cli.stderr).to.equal(0);
    expect((await h.sandbox.platform.sendTicket(A.componentAppid)).body).to.equal('success');
    const link = await request(`${base}/platform/${A.componentAppid}/authorize`, { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    expect(link.status, link.text).to.equal(200);
    const pre = new URL(link.json.url as string).searchParams.get('pre_auth_code') as string;
    const approved = await h.sandbox.platform.authorize({ componentAppid: A.componentAppid, preAuthCode: pre, authorizerAppid: X });
    expect(approved.event.responseBody).to.equal('success');
    xCode = approved.authCode;
    expect((await h.stores.repo.find(X))?.status).to.equal('active');
  });
  after(async () => {
    h.sandbox.platform.close();
    await h.close();
  });

  it('events: malformed, hostile XML and wrong content are 4xx with a stable code, and change nothing', async () => {
    const before = await snapshot();
    const good = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@' + hex(16) });
    const enc = /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(good.body)?.[1] as string;
    const cases: [string, BodyInit, string][] = [
      ['empty', '', 'MALFORMED_BODY'],
      ['text', 'hello', 'MALFORMED_BODY'],
      ['json', JSON.stringify({ Encrypt: enc }), 'MALFORMED_BODY'],
      // Random bytes, less '<' and '&': with them about one body in 40 held "<!", "<?" or "&#" and was (rightly) XML_FORBIDDEN.
      ['binary', Buffer.from(randomBytes(512).map((b) => (b === 0x3c || b === 0x26 ? 0x20 : b))), 'MALFORMED_BODY'],
      ['no Encrypt', `<xml><AppId>${A.componentAppid}</AppId></xml>`, 'MALFORMED_BODY'],
      ['duplicate Encrypt', `<xml><Encrypt>${enc}</Encrypt><Encrypt>${enc}</Encrypt></xml>`, 'MALFORMED_BODY'],
      ['nested', `<xml><Encrypt><Inner>${enc}</Inner></Encrypt></xml>`, 'MALFORMED_BODY'],
      ['attributes', `<xml><Encrypt a="1">${enc}</Encrypt></xml>`, 'MALFORMED_BODY'],
      ['CDATA tail', `<xml><Encrypt><![CDATA[${enc}]]>]]></Encrypt></xml>`, 'MALFORMED_BODY'],
      ['two CDATA', `<xml><Encrypt><![CDATA[${enc.slice(0, 10)}]]><![CDATA[${enc.slice(10)}]]></Encrypt></xml>`, 'MALFORMED_BODY'],
      ['DOCTYPE', `<!DOCTYPE xml [<!ENTITY e "${enc}">]><xml><Encrypt>&e;</Encrypt></xml>`, 'XML_FORBIDDEN'],
      ['external entity', `<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>`, 'XML_FORBIDDEN'],
      ['billion laughs', `<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>`, 'XML_FORBIDDEN'],
      ['processing instruction', `<?xml-stylesheet href="http://127.0.0.1:1/x"?><xml><Encrypt>${enc}</Encrypt></xml>`, 'XML_FORBIDDEN'],
      ['char reference', `<xml><Encrypt>&#65;${enc}</Encrypt></xml>`, 'XML_FORBIDDEN'],
      ['huge field', `<xml><Encrypt>${'A'.repeat(20_000)}</Encrypt></xml>`, 'BODY_TOO_COMPLEX'],
      ['many fields', `<xml>${Array.from({ length: 100 }, (_, i) => `<F${i}>1</F${i}>`).join('')}</xml>`, 'BODY_TOO_COMPLEX'],
    ];
    for (const [what, body, code] of cases) refused(await post(good.query, body), 400, code, what);
    // The signature covers the Encrypt only: the same Encrypt wrapped in hostile XML is still refused.
    refused(await post(good.query, `<!DOCTYPE x><xml><Encrypt>${enc}</Encrypt></xml>`), 400, 'XML_FORBIDDEN');
    // Wrong content types do not make the body unreadable or the gateway wait.
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])
      refused(await post(good.query, '{"a":1}', { headers: { 'content-type': type } }), 400, 'MALFORMED_BODY', type);
    refused(await post(good.query, 'a=1&b=2', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 400, 'MALFORMED_BODY');
    refused(await post(good.query, 'x', { headers: { 'content-encoding': 'gzip' } }), 400, 'MALFORMED_BODY');
    expect(await snapshot()).to.equal(before);
  });

  it('events: oversized bodies (declared or chunked) are 413; a chunked valid event is accepted', async () => {
    const before = await snapshot();
    const good = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@' + hex(16) }, { timestamp: nowS() });
    refused(await post(good.query, 'x'.repeat(65 * 1024)), 413, 'PAYLOAD_TOO_LARGE');
    const stream = (chunks: string[]) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
          c.close();
        },
      });
    refused(await post(good.query, stream(Array.from({ length: 80 }, () => 'y'.repeat(1024))), { duplex: 'half' }), 413, 'PAYLOAD_TOO_LARGE');
    expect(await snapshot()).to.equal(before);
    const half = Math.floor(good.body.length / 2);
    const ok = await post(good.query, stream([good.body.slice(0, half), good.body.slice(half)]), { duplex: 'half' });
    expect([ok.status, ok.text]).to.deep.equal([200, 'success']);
  });

  it('events: missing, malformed and duplicated query parameters; forged, stale, other-platform and other-AppId events', async () => {
    const before = await snapshot();
    const good = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@' + hex(16) });
    const q = new URLSearchParams(good.query).toString();
    refused(await post({}, good.body), 400, 'INVALID_QUERY', 'no query');
    for (const k of ['timestamp', 'nonce', 'msg_signature']) {
      const { [k]: _dropped, ...rest } = good.query as Record<string, string>;
      refused(await post(rest, good.body), 400, 'INVALID_QUERY', `no ${k}`);
      refused(await post(`${q}&${k}=${encodeURIComponent((good.query as Record<string, string>)[k] as string)}`, good.body), 400, 'INVALID_QUERY', `${k} twice`);
    }
    refused(await post({ ...good.query, timestamp: 'x'.repeat(5000) }, good.body), 400, 'INVALID_QUERY');
    refused(await post({ ...good.query, nonce: '<script>' }, good.body), 400, 'INVALID_QUERY');
    refused(await post({ ...good.query, msg_signature: '0'.repeat(40) }, good.body), 401, 'INVALID_SIGNATURE');
    refused(await post({ ...good.query, msg_signature: 'x'.repeat(4000) }, good.body), 401, 'INVALID_SIGNATURE');
    // Signed with B's token, posted to A.
    const ofB = event({ AppId: B.componentAppid, InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }, { as: B });
    refused(await post(ofB.query, ofB.body), 401, 'INVALID_SIGNATURE');
    // Stale and future timestamps, correctly signed.
    refused(await post(event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }, { timestamp: nowS() - 3600 }).query, good.body), 401, 'INVALID_SIGNATURE');
    const stale = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }, { timestamp: nowS() - 3600 });
    refused(await post(stale.query, stale.body), 401, 'STALE_TIMESTAMP');
    const future = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }, { timestamp: nowS() + 3600 });
    refused(await post(future.query, future.body), 401, 'STALE_TIMESTAMP');
    // Encrypted for B with A's token and key (a platform sharing keys), and an inner AppId of B.
    const forB = event({ AppId: B.componentAppid, InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' }, { as: { ...A, componentAppid: B.componentAppid } });
    refused(await post(forB.query, forB.body), 401, 'APPID_MISMATCH');
    const innerB = event({ AppId: B.componentAppid, InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' });
    refused(await post(innerB.query, innerB.body), 401, 'APPID_MISMATCH');
    // A's correctly signed event posted to B's URL (B's token differs).
    refused(await post(good.query, good.body, { url: events(B.componentAppid) }), 401, 'INVALID_SIGNATURE');
    expect(await snapshot()).to.equal(before);
  });

  it('unknown or malformed component appids: 404 PLATFORM_NOT_FOUND / 400 INVALID_APPID on every platform route', async () => {
    const good = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 't' });
    const unknown = 'wx' + hex(8);
    refused(await post(good.query, good.body, { url: events(unknown) }), 404, 'PLATFORM_NOT_FOUND');
    for (const bad of ['WX' + hex(8).toUpperCase(), 'wx123', 'wx' + hex(8) + '0', '%3Cscript%3E', 'wx' + hex(7) + 'zz'])
      refused(await post(good.query, good.body, { url: `${base}/platform/${bad}/events` }), 400, 'INVALID_APPID', bad);
    for (const path of [`/platform/${unknown}/authorize`, `/platform/${unknown}/authorized?auth_code=abc`, `/platform/${unknown}/${X}/portal`])
      refused(await request(`${base}${path}`, { timeoutMs: 5000 }), 404, 'PLATFORM_NOT_FOUND', path);
    for (const path of ['/platform/wx1/authorize', '/platform/wx1/authorized?auth_code=abc', `/platform/wx1/${X}/portal`, `/platform/${A.componentAppid}/WX1/portal`])
      refused(await request(`${base}${path}`, { timeoutMs: 5000 }), 400, 'INVALID_APPID', path);
    expect((await request(`${base}/platform/${A.componentAppid}/events`, { timeoutMs: 5000 })).status).to.be.within(400, 499);
  });

  it('a replayed older ticket after a newer one replaces it neither in MongoDB nor in Redis (not even after Redis lost the newer one)', async () => {
    const t = nowS();
    const newer = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@newer' + hex(8), CreateTime: t });
    const older = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@older' + hex(8), CreateTime: t - 120 });
    expect((await post(older.query, older.body)).text).to.equal('success');
    expect((await post(newer.query, newer.body)).text).to.equal('success');
    expect((await ticketAt()).getTime()).to.equal(t * 1000);
    expect(await redisTicketAt()).to.equal(t * 1000);
    // The same older event again, and the older ticket signed anew (another nonce): answered, ignored.
    expect((await post(older.query, older.body)).text).to.equal('success');
    const olderAgain = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@older' + hex(8), CreateTime: t - 120 });
    expect((await post(olderAgain.query, olderAgain.body)).text).to.equal('success');
    expect((await ticketAt()).getTime()).to.equal(t * 1000);
    expect(await redisTicketAt()).to.equal(t * 1000);
    // Redis lost the newer ticket (flush, eviction): an older one must not take its place there.
    await h.redis.del(`wxgate:ticket:${A.componentAppid}`);
    const olderThird = event({ InfoType: 'component_verify_ticket', ComponentVerifyTicket: 'ticket@@@older' + hex(8), CreateTime: t - 60 });
    expect((await post(olderThird.query, olderThird.body)).text).to.equal('success');
    expect((await ticketAt()).getTime()).to.equal(t * 1000);
    expect(await redisTicketAt(), 'no older ticket in Redis').to.be.oneOf([0, t * 1000]);
  });

  it('a replayed `unauthorized` after a re-authorization does not disable the tenant; neither does a late one from before it', async () => {
    const revoked = await h.sandbox.platform.unauthorize(A.componentAppid, X);
    expect(revoked.responseBody).to.equal('success');
    expect((await h.stores.repo.find(X))?.status).to.equal('disabled');
    const link = await request(`${base}/platform/${A.componentAppid}/authorize`, { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    const pre = new URL(link.json.url as string).searchParams.get('pre_auth_code') as string;
    const again = await h.sandbox.platform.authorize({ componentAppid: A.componentAppid, preAuthCode: pre, authorizerAppid: X });
    expect(again.event.responseBody).to.equal('success');
    xCode = again.authCode;
    expect((await h.stores.repo.find(X))?.status).to.equal('active');
    const replay = await post(revoked.query, revoked.body);
    expect([replay.status, replay.text]).to.deep.equal([200, 'success']);
    const late = event({ InfoType: 'unauthorized', AuthorizerAppid: X, CreateTime: nowS() - 30 });
    expect((await post(late.query, late.body)).text).to.equal('success');
    expect((await h.stores.repo.find(X))?.status).to.equal('active');
    const row = await h.stores.conn.collection('authorizers').findOne({ componentAppid: A.componentAppid, appid: X });
    expect(row?.status).to.equal('authorized');
    // An unauthorized event for a mini program that never authorized A changes nothing either.
    const before = await snapshot();
    const stranger = event({ InfoType: 'unauthorized', AuthorizerAppid: 'wx' + hex(8) });
    expect((await post(stranger.query, stranger.body)).text).to.equal('success');
    expect(await snapshot()).to.equal(before);
  });

  it('`authorized` with a forged or used code creates no tenant; the callback refuses forged codes and bad query parameters', async () => {
    const before = await snapshot();
    const Y = 'wx' + hex(8);
    const forged = event({ InfoType: 'authorized', AuthorizerAppid: Y, AuthorizationCode: 'queryauthcode@@@' + hex(20), AuthorizationCodeExpiredTime: nowS() + 3600 });
    expect((await post(forged.query, forged.body)).text).to.equal('success');
    const used = event({ InfoType: 'updateauthorized', AuthorizerAppid: Y, AuthorizationCode: xCode });
    expect((await post(used.query, used.body)).text).to.equal('success');
    expect(await h.stores.repo.find(Y)).to.equal(null);
    const cb = (qs: string) => request(`${base}/platform/${A.componentAppid}/authorized?${qs}`, { redirect: 'manual', headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    refused(await cb(`auth_code=queryauthcode@@@${hex(20)}`), 400, 'AUTHORIZATION_FAILED');
    refused(await cb(''), 400, 'INVALID_QUERY');
    refused(await cb('auth_code='), 400, 'INVALID_QUERY');
    refused(await cb(`auth_code=${'a'.repeat(600)}`), 400, 'INVALID_QUERY');
    refused(await cb('auth_code=%3Cscript%3E'), 400, 'INVALID_QUERY');
    refused(await cb('auth_code=a&auth_code=b'), 400, 'INVALID_QUERY');
    expect(await snapshot()).to.equal(before);
  });

  it('redirect and next: no javascript:/data:/relative URLs, no repeated parameter, and the callback is no open redirect', async () => {
    const authorize = (qs: string) => request(`${base}/platform/${A.componentAppid}/authorize?${qs}`, { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
    for (const r of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      '//evil.example/x',
      '/relative',
      'evil.example',
      'ftp://evil.example/',
      'http://',
      `https://e.example/${'x'.repeat(2100)}`,
      ' javascript:alert(1)',
    ])
      refused(await authorize(`redirect=${encodeURIComponent(r)}`), 400, 'INVALID_QUERY', r);
    refused(await authorize('redirect=https%3A%2F%2Fa.example&redirect=https%3A%2F%2Fb.example'), 400, 'INVALID_QUERY');
    // Only the vendor's own origins (the platform file's redirectOrigins, or the gateway itself): no open redirect through the page.
    for (const r of ['https://evil.example/done', 'https://vendor.example.evil.example/', 'http://vendor.example/done', 'https://vendor.example:444/x']) {
      refused(await authorize(`redirect=${encodeURIComponent(r)}`), 400, 'INVALID_QUERY', r);
    }
    expect((await authorize(`redirect=${encodeURIComponent(`${base}/welcome`)}`)).status).to.equal(200);
    const cb = (qs: string) => request(`${base}/platform/${A.componentAppid}/authorized?auth_code=${encodeURIComponent(xCode)}&${qs}`, { redirect: 'manual', timeoutMs: 10_000 });
    // A spent code (browser history, a log, a Referer) must not turn the gateway into a redirector.
    for (const qs of ['next=https%3A%2F%2Fevil.example%2F', 'next=https%3A%2F%2Fevil.example%2F&next_sig=AAAA', 'next=javascript%3Aalert(1)', 'next=a&next=b']) {
      const r = await cb(qs);
      refused(r, 400, 'INVALID_QUERY', qs);
      expect(r.headers.get('location')).to.equal(null);
    }
    // A signature the page issued for one URL does not cover another.
    const link = await authorize(`redirect=${encodeURIComponent('https://vendor.example/done')}`);
    const back = new URL(new URL(link.json.url as string).searchParams.get('redirect_uri') as string);
    const sig = back.searchParams.get('next_sig') as string;
    refused(await cb(`next=${encodeURIComponent('https://evil.example/done')}&next_sig=${sig}`), 400, 'INVALID_QUERY');
    const ok = await cb(`next=${encodeURIComponent('https://vendor.example/done')}&next_sig=${sig}`);
    expect(ok.status, ok.text).to.equal(302);
    expect(ok.headers.get('location')).to.equal(`https://vendor.example/done?appid=${X}`);
  });

  it('the authorization page escapes the platform name (no HTML injection)', async () => {
    const page = await request(`${base}/platform/${A.componentAppid}/authorize`, { headers: { accept: 'text/html' }, timeoutMs: 10_000 });
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.text).to.not.contain('<script>').and.not.contain('"pwned"');
    expect(page.text).to.contain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &quot;Acme&quot;');
    expect(page.text.match(/<a /g)).to.have.length(1);
  });

  it('pushes through the platform URL: AppSecret tenants and authorizers of another platform 404, disabled 403, forged 401', async () => {
    const own = await h.tenant();
    /** An authorizer tenant as a tenant file gives it: no secret, no keys of its own. */
    const authorizerOf = (component: string, status: 'active' | 'disabled') => {
      const { secret: _s, token: _t, aesKey: _k, ...rest } = makeTenant({ status });
      return { ...rest, credential: 'authorizer', component, tokenMode: 'authorizer' } as unknown as TenantFixture;
    };
    const t = authorizerOf(B.componentAppid, 'active');
    await h.stores.seed(t);
    const d = authorizerOf(A.componentAppid, 'disabled');
    await h.stores.seed(d);
    const push = (signer: { appid: string; token: string; aesKey: string }) => buildPush(signer, samplePush('text', { content: 'hostile' }), { format: 'xml', mode: 'safe' });
    const send = (appid: string, p: ReturnType<typeof push>, method = 'POST') =>
      request(`${base}/platform/${A.componentAppid}/${appid}/portal?${new URLSearchParams(p.query).toString()}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': p.contentType }, body: p.body } : {}),
        timeoutMs: 10_000,
      });
    const byA = () => push({ appid: A.componentAppid, token: A.token, aesKey: A.aesKey });
    refused(await send(own.appid, byA()), 404, 'TENANT_NOT_FOUND', 'AppSecret tenant');
    refused(await send(t.appid, byA()), 404, 'TENANT_NOT_FOUND', 'authorizer of B');
    refused(await send('wx' + hex(8), byA()), 404, 'TENANT_NOT_FOUND', 'unknown');
    refused(await send(d.appid, byA()), 403, 'TENANT_DISABLED', 'disabled');
    refused(await send(X, push({ appid: A.componentAppid, token: B.token, aesKey: B.aesKey })), 401, 'INVALID_SIGNATURE', 'signed with B');
    refused(await send(X, push({ appid: X, token: 'someToken', aesKey: aesKey() })), 401, 'INVALID_SIGNATURE', 'signed as the app');
    refused(await send(X, push({ appid: X, token: A.token, aesKey: A.aesKey })), 401, 'APPID_MISMATCH', 'encrypted for X, not the component');
    const signed = byA();
    refused(await send(X, { ...signed, query: { ...signed.query, signature: '0'.repeat(40) } }), 401, 'INVALID_SIGNATURE', 'forged POST');
    refused(await send(X, { ...signed, query: { ...signed.query, signature: '0'.repeat(40), echostr: 'x' } }, 'GET'), 401, 'INVALID_SIGNATURE', 'forged GET');
    // The authorizer has no keys of its own: its own portal URL is not where its pushes go.
    refused(await request(`${base}/${X}/portal?${new URLSearchParams(signed.query).toString()}`, { method: 'POST', body: signed.body, timeoutMs: 5000 }), 404, 'NOT_FOUND');
    const ok = await send(X, byA());
    expect([ok.status, ok.text]).to.deep.equal([200, 'success']);
  });

  it('at rest and in Redis: no plaintext platform secret, token, aesKey, ticket or refresh token; the gateway output holds no secrets, stack traces or 5xx', async () => {
    const docs = JSON.stringify([
      ...(await h.stores.conn.collection('platforms').find({}).toArray()),
      ...(await h.stores.conn.collection('authorizers').find({}).toArray()),
      ...(await h.stores.conn.collection('tenants').find({}).toArray()),
    ]);
    const redis: string[] = [];
    for (const k of await h.redis.keys('wxgate:*')) if ((await h.redis.type(k)) === 'string') redis.push(`${k}=${await h.redis.get(k)}`);
    const secrets = [
      A.secret,
      A.token,
      A.aesKey,
      B.secret,
      B.token,
      B.aesKey,
      h.sandbox.platform.currentTicket(A.componentAppid) as string,
      ...h.sandbox.platform.authorizers(A.componentAppid).map((a) => a.refreshToken),
    ];
    expect(secrets.every((s) => typeof s === 'string' && s.length > 5)).to.equal(true);
    const out = h.fleet[0]!.output();
    for (const s of secrets) {
      expect(docs, 'MongoDB').to.not.contain(s);
      expect(redis.join('\n'), 'Redis').to.not.contain(s);
      expect(out, 'gateway output').to.not.contain(s);
    }
    expect(out).to.not.contain(xCode);
    expect(out).to.not.match(/\n\s+at |"stack"/);
    expect(out).to.not.match(/"status":5\d\d/);
  });
});
