import { expect } from 'chai';
import { startGateway, TEST_ADMIN_TOKEN, type GatewayProcess } from '../support/gateway-process';
import { makeTenant } from '../support/tenant-fixtures';
import { applyTenants, expectErrorBody, logLines, request, requestLogLines, stopAll, type HttpResult } from '../support/gateway-helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('tenancy: tenant resolution and HTTP errors', function () {
  this.timeout(30_000);

  const active = makeTenant();
  const disabled = makeTenant({ status: 'disabled' });
  let gw: GatewayProcess;

  before(async () => {
    await applyTenants(active, disabled);
    gw = await startGateway();
  });
  after(() => stopAll([gw]));

  const get = (path: string, init?: RequestInit): Promise<HttpResult> => request(gw.url + path, init);

  /** The one request log line of a response, checked field by field. */
  async function expectLogged(r: HttpResult, method: string, path: string, appid: string | undefined): Promise<Record<string, unknown>> {
    const reqId = r.headers.get('x-request-id') as string;
    const lines = await requestLogLines(gw, reqId);
    expect(lines, `log lines for ${reqId}:\n${gw.output().slice(-3000)}`).to.have.length(1);
    const line = lines[0]!;
    expect(line.method).to.equal(method);
    expect(line.path).to.equal(path);
    expect(line.status).to.equal(r.status);
    expect(line.durationMs).to.be.a('number').and.at.least(0);
    if (appid === undefined) expect(line).to.not.have.property('appid');
    else expect(line.appid).to.equal(appid);
    return line;
  }

  it('GET /<appid> answers {appid,name,status} and no secret', async () => {
    const r = await get(`/${active.appid}`);
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({ appid: active.appid, name: active.name, status: 'active' });
    expect(r.text).to.not.include(active.secret);
    expect(r.text).to.not.include(active.token);
    expect(r.text).to.not.include(active.aesKey);
    expect(r.headers.get('x-request-id')).to.match(UUID);
    await expectLogged(r, 'GET', `/${active.appid}`, active.appid);
  });

  for (const bad of ['/WX0123456789ABCDEF', '/wx123', '/wx0123456789abcdeg/token', '/hello']) {
    it(`a malformed appid (${bad}) is 400 INVALID_APPID`, async () => {
      const r = await get(bad);
      expectErrorBody(r, 400, 'INVALID_APPID');
      expect(r.headers.get('x-request-id')).to.match(UUID);
    });
  }

  it('an unknown tenant is 404 TENANT_NOT_FOUND', async () => {
    const r = await get('/wx0000000000000000/x');
    expectErrorBody(r, 404, 'TENANT_NOT_FOUND');
    await expectLogged(r, 'GET', '/wx0000000000000000/x', undefined);
  });

  it('an unknown tenant stays 404 on the second request (negative cache)', async () => {
    const ghost = makeTenant().appid;
    expectErrorBody(await get(`/${ghost}`), 404, 'TENANT_NOT_FOUND');
    expectErrorBody(await get(`/${ghost}/token`), 404, 'TENANT_NOT_FOUND');
  });

  it('a disabled tenant is 403 TENANT_DISABLED, whatever the path', async () => {
    for (const path of [`/${disabled.appid}`, `/${disabled.appid}/token`, `/${disabled.appid}/no/such/route`]) {
      const r = await get(path);
      expectErrorBody(r, 403, 'TENANT_DISABLED');
      expect(r.text).to.not.include(disabled.secret);
    }
    const r = await get(`/${disabled.appid}`);
    await expectLogged(r, 'GET', `/${disabled.appid}`, disabled.appid);
  });

  it('a push (POST /<appid>/portal, answered on the fast path) to an unknown or disabled tenant is refused the same way, logged and counted', async () => {
    const post = (path: string) => get(path, { method: 'POST', body: '<xml></xml>', headers: { 'content-type': 'text/xml' } });
    const ghost = await post('/wx0000000000000000/portal');
    expectErrorBody(ghost, 404, 'TENANT_NOT_FOUND');
    expect(ghost.headers.get('content-security-policy')).to.include("default-src 'none'");
    await expectLogged(ghost, 'POST', '/wx0000000000000000/portal', undefined);
    const off = await post(`/${disabled.appid}/portal`);
    expectErrorBody(off, 403, 'TENANT_DISABLED');
    await expectLogged(off, 'POST', `/${disabled.appid}/portal`, disabled.appid);
    // The legacy URL reaches the same handler, which refuses it (this tenant has no push keys).
    const unsigned = await post(`/wx/portal/${active.appid}`);
    expect(unsigned.status).to.be.within(400, 499);
    // The metrics name the route pattern, as the router would.
    const metrics = await get('/metrics');
    expect(metrics.text).to.match(new RegExp(`wxgate_http_requests_total\\{method="POST",route="/:appid/portal",[^}]*appid="${active.appid}"`));
  });

  it('an unknown route under a valid tenant is 404 NOT_FOUND', async () => {
    const r = await get(`/${active.appid}/no/such/route`);
    expectErrorBody(r, 404, 'NOT_FOUND');
    await expectLogged(r, 'GET', `/${active.appid}/no/such/route`, active.appid);
  });

  it('an unknown route at the top level is 404 NOT_FOUND', async () => {
    expectErrorBody(await get('/'), 404, 'NOT_FOUND');
  });

  it('/admin without a token is 401 in the same error shape', async () => {
    expectErrorBody(await get('/admin/tenants'), 401, 'UNAUTHENTICATED');
    expectErrorBody(await get('/admin/tenants', { headers: { authorization: 'Bearer wrong-token-0123456789' } }), 403, 'FORBIDDEN');
  });

  it('/admin/tenants with the token lists tenants masked', async () => {
    const r = await get(`/admin/tenants?q=${active.appid}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(r.status, r.text).to.equal(200);
    const mine = (r.json as { tenants: Record<string, unknown>[] }).tenants.find((t) => t.appid === active.appid);
    expect(mine?.name).to.equal(active.name);
    expect(r.text).to.not.include(active.secret);
    expect(r.text).to.not.include(active.aesKey);
    expect(r.text).to.not.include(disabled.secret);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const mine = 'client-req.42:abc';
    const r1 = await get(`/${active.appid}`, { headers: { 'x-request-id': mine } });
    expect(r1.headers.get('x-request-id')).to.equal(mine);
    await expectLogged(r1, 'GET', `/${active.appid}`, active.appid);

    const r2 = await get(`/${active.appid}`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(r2.headers.get('x-request-id')).to.match(UUID);
  });

  it('logs the path without the query string', async () => {
    const r = await get(`/${active.appid}?secret=${active.secret}&access_token=zzz`);
    expect(r.status).to.equal(200);
    const line = await expectLogged(r, 'GET', `/${active.appid}`, active.appid);
    expect(JSON.stringify(line)).to.not.include(active.secret);
  });

  it('every log line is JSON and none carries a tenant secret', async () => {
    // Make sure the requests above have all been written out.
    const last = await get(`/${active.appid}`);
    await requestLogLines(gw, last.headers.get('x-request-id') as string);
    const out = gw.output();
    for (const t of [active, disabled]) {
      expect(out).to.not.include(t.secret);
      expect(out).to.not.include(t.token);
      expect(out).to.not.include(t.aesKey);
    }
    const lines = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('WXGATE_LISTENING'));
    for (const l of lines) expect(() => JSON.parse(l), `not a JSON log line: ${l}`).to.not.throw();
    const requests = logLines(gw).filter((l) => l.msg === 'request');
    expect(requests.length).to.be.at.least(15);
    for (const l of requests) {
      for (const k of ['reqId', 'method', 'path', 'status', 'durationMs']) expect(l, JSON.stringify(l)).to.have.property(k);
    }
  });
});
