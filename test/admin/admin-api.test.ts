import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness, type TenantHandle } from '../support/harness';
import { TEST_ADMIN_TOKEN } from '../support/gateway-process';
import { makeTenant } from '../support/tenant-fixtures';
import { expectErrorBody, request, type HttpResult } from '../support/http';
import { ADMIN_APPLY_MAX_BYTES, ADMIN_BODY_MAX_BYTES } from '../../src/admin/admin-routes';

const ALICE = 'alice-token-' + randomBytes(12).toString('hex');
const BOB = 'bob-token-' + randomBytes(12).toString('hex');

/** An error answer with the stable code, JSON, no stack trace (details allowed). */
function expectError(r: HttpResult, status: number, code: string): void {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type') ?? '').to.match(/^application\/json/);
  expect(r.json?.error?.code, r.text).to.equal(code);
  expect(r.text).to.not.match(/:\d+:\d+\)|\.js:\d+|\.ts:\d+|\\n\s*at |Error:/);
}

describe('admin: the /admin HTTP API', function () {
  this.timeout(90_000);
  let h: Harness;
  let t: TenantHandle;

  const api = (method: string, path: string, o: { json?: unknown; body?: string; headers?: Record<string, string>; auth?: string | null } = {}): Promise<HttpResult> =>
    request(`${h.url()}/admin${path}`, {
      method,
      ...(o.auth === null ? {} : { auth: o.auth ?? ALICE }),
      ...(o.json !== undefined ? { jsonBody: o.json } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
      timeoutMs: 30_000,
    });

  before(async () => {
    h = await startHarness(1, { ADMIN_TOKENS: `alice:${ALICE},bob:${BOB}` });
    t = await h.tenant();
  });
  after(async () => h?.close());

  describe('operations', () => {
    it('lists tenants a page at a time, filtered by appid or name substring and status', async () => {
      const tag = randomBytes(3).toString('hex');
      const mine = [0, 1, 2].map((i) => makeTenant({ apiBase: h.sbx.url, name: `Paging ${tag} ${i}`, status: i === 2 ? 'disabled' : 'active' }));
      const applied = await api('POST', '/tenants', { json: { tenants: mine } });
      expect(applied.status, applied.text).to.equal(200);
      expect(applied.json.applied.map((a: { action: string }) => a.action)).to.deep.equal(['created', 'created', 'created']);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: HttpResult = await api('GET', `/tenants?q=${tag.toUpperCase()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status, page.text).to.equal(200);
        expect(page.json.tenants.length).to.be.at.most(2);
        seen.push(...page.json.tenants.map((x: { appid: string }) => x.appid));
        cursor = page.json.nextCursor;
      } while (cursor);
      expect(seen).to.deep.equal(mine.map((m) => m.appid).sort());
      const disabled = await api('GET', `/tenants?q=${tag}&status=disabled`);
      expect(disabled.json.tenants.map((x: { appid: string }) => x.appid)).to.deep.equal([mine[2]!.appid]);
      const byAppid = await api('GET', `/tenants?q=${mine[1]!.appid.slice(2, 12)}`);
      expect(byAppid.json.tenants.map((x: { appid: string }) => x.appid)).to.include(mine[1]!.appid);
      for (const m of mine) {
        expect(JSON.stringify(applied.json) + JSON.stringify(byAppid.json)).to.not.include(m.secret);
        expect(JSON.stringify(byAppid.json)).to.not.include(m.aesKey);
      }
    });

    it("revokes every session of a tenant's user", async () => {
      const u = await h.newUser(t.appid);
      expect((await h.req('GET', `/${t.appid}/users/me`, { auth: u.token })).status).to.equal(200);
      const r = await api('DELETE', `/tenants/${t.appid}/users/${u.openid}/sessions`);
      expect(r.json, r.text).to.deep.equal({ revoked: 1 });
      expect((await h.req('GET', `/${t.appid}/users/me`, { auth: u.token })).json.error.code).to.equal('INVALID_SESSION');
    });

    it('webhook status, dead letters and redelivery answer for the tenant', async () => {
      const s = await api('GET', `/tenants/${t.appid}/webhook`);
      expect(s.status, s.text).to.equal(200);
      expect(s.json.webhook).to.include({ dead: 0 });
      expect((await api('GET', `/tenants/${t.appid}/webhook/dead?limit=5`)).json).to.deep.equal({ dead: [] });
      expect((await api('POST', `/tenants/${t.appid}/webhook/redeliver`, { json: {} })).json).to.deep.equal({ redelivered: 0 });
    });

    it('merchants: apply, show, refuse removal while used, remove', async () => {
      const mchid = String(1_700_000_000 + Math.floor(Math.random() * 9_999_999));
      const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const apiV3Key = randomBytes(16).toString('hex');
      const m = { mchid, name: 'API merchant', serialNo: 'ABCDEF0123456789', privateKey, apiV3Key };
      const applied = await api('POST', '/merchants', { json: m });
      expect(applied.json.applied, applied.text).to.deep.equal([{ mchid, name: 'API merchant', verification: 'certificates', action: 'created' }]);
      const shown = await api('GET', `/merchants/${mchid}`);
      expect(shown.json.merchant).to.include({ mchid, name: 'API merchant' });
      expect(shown.text).to.not.include(apiV3Key);
      const user = await api('POST', '/tenants', { json: { ...t.t, name: 'Paying shop', pay: { mchid } } });
      expect(user.status, user.text).to.equal(200);
      expectError(await api('DELETE', `/merchants/${mchid}`), 409, 'MERCHANT_IN_USE');
      expect((await api('DELETE', `/merchants/${mchid}?force=true`)).json).to.deep.equal({ removed: mchid });
      expectError(await api('GET', `/merchants/${mchid}`), 404, 'MERCHANT_NOT_FOUND');
      const list = await api('GET', '/merchants');
      expect(list.text).to.not.include(apiV3Key);
    });

    it('the audit log names the operator: admin:<name> for ADMIN_TOKENS, admin:default for ADMIN_TOKEN', async () => {
      expect((await api('POST', `/tenants/${t.appid}/disable`, { auth: BOB })).json.tenant.status).to.equal('disabled');
      expect((await api('POST', `/tenants/${t.appid}/enable`, { auth: TEST_ADMIN_TOKEN })).json.tenant.status).to.equal('active');
      const entries = (await api('GET', `/audit?appid=${t.appid}&limit=3`)).json.entries as { actor: string; action: string }[];
      expect(entries.slice(0, 2).map((e) => [e.action, e.actor])).to.deep.equal([
        ['tenant.enable', 'admin:default'],
        ['tenant.disable', 'admin:bob'],
      ]);
    });
  });

  describe('hostile input: 4xx JSON with a stable code, never a stack', () => {
    /** Every admin route, as one representative request. */
    const routes = (): [string, string, unknown?][] => [
      ['GET', '/tenants'],
      ['POST', '/tenants', makeTenant()],
      ['GET', `/tenants/${t.appid}`],
      ['POST', `/tenants/${t.appid}/disable`, {}],
      ['POST', `/tenants/${t.appid}/enable`, {}],
      ['DELETE', `/tenants/${makeTenant().appid}`],
      ['GET', `/tenants/${t.appid}/keys`],
      ['POST', `/tenants/${t.appid}/keys`, { name: 'x' }],
      ['DELETE', `/tenants/${t.appid}/keys/0123456789abcdef`],
      ['GET', `/tenants/${t.appid}/webhook`],
      ['GET', `/tenants/${t.appid}/webhook/dead`],
      ['POST', `/tenants/${t.appid}/webhook/redeliver`, {}],
      ['DELETE', `/tenants/${t.appid}/users/o_user/sessions`],
      ['GET', '/merchants'],
      ['POST', '/merchants', { mchid: '123456' }],
      ['GET', '/merchants/123456'],
      ['DELETE', '/merchants/123456'],
      ['GET', '/audit'],
    ];

    it('no token: 401 UNAUTHENTICATED; a forged, truncated or extended token: 403 FORBIDDEN, on every route', async () => {
      for (const [method, path, json] of routes()) {
        expectErrorBody(await api(method, path, { json, auth: null }), 401, 'UNAUTHENTICATED');
        for (const forged of ['x'.repeat(ALICE.length), ALICE.slice(0, -1), ALICE + 'x', `alice:${ALICE}`, BOB.toUpperCase()]) {
          expectErrorBody(await api(method, path, { json, auth: forged }), 403, 'FORBIDDEN');
        }
        expectErrorBody(await api(method, path, { json, headers: { authorization: `Basic ${Buffer.from(`alice:${ALICE}`).toString('base64')}` }, auth: null }), 401, 'UNAUTHENTICATED');
      }
    });

    it('bodies: malformed JSON 400, not JSON 415, oversized 413, wrong types 400', async () => {
      const bodyRoutes = routes().filter(([m]) => m === 'POST');
      for (const [method, path] of bodyRoutes) {
        expectErrorBody(await api(method, path, { body: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON');
        expectErrorBody(await api(method, path, { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        const limit = path === '/tenants' || path === '/merchants' ? ADMIN_APPLY_MAX_BYTES : ADMIN_BODY_MAX_BYTES;
        expectErrorBody(await api(method, path, { body: JSON.stringify({ name: 'x'.repeat(limit) }), headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
      }
      const wrong: [string, unknown, string][] = [
        [`/tenants/${t.appid}/keys`, { name: 42 }, 'INVALID_BODY'],
        [`/tenants/${t.appid}/keys`, { name: '' }, 'INVALID_BODY'],
        [`/tenants/${t.appid}/keys`, { name: 'x', admin: true }, 'INVALID_BODY'],
        [`/tenants/${t.appid}/disable`, { status: 'active' }, 'INVALID_BODY'],
        [`/tenants/${t.appid}/webhook/redeliver`, { ids: 'all' }, 'INVALID_BODY'],
        [`/tenants/${t.appid}/webhook/redeliver`, { ids: ['../../x'] }, 'INVALID_BODY'],
        ['/tenants', [makeTenant()], 'INVALID_BODY'],
        ['/tenants', 'wx0123', 'MALFORMED_JSON'],
        ['/tenants', { tenants: [] }, 'INVALID_BODY'],
        ['/tenants', { tenants: [{ appid: 'wx1' }, 7] }, 'INVALID_DEFINITION'],
        ['/tenants', { ...makeTenant(), appid: '../../etc/passwd', secret: 12 }, 'INVALID_DEFINITION'],
        ['/merchants', { mchid: 'abc' }, 'INVALID_DEFINITION'],
      ];
      for (const [path, json, code] of wrong) expectError(await api('POST', path, { json }), 400, code);
      // Prototype keys are refused by the body reader itself.
      const proto = JSON.stringify(makeTenant()).replace(/^\{/, '{"__proto__":{"status":"active"},"constructor":{"name":"x"},');
      expectError(await api('POST', '/tenants', { body: proto, headers: { 'content-type': 'application/json' } }), 400, 'INVALID_BODY');
      // Two definitions of one appid: nothing is written.
      const twice = makeTenant({ apiBase: h.sbx.url });
      const dup = await api('POST', '/tenants', { json: { tenants: [twice, { ...twice, name: 'Other' }] } });
      expectError(dup, 400, 'INVALID_DEFINITION');
      expect(dup.text).to.include('defined more than once').and.not.include(twice.secret);
      expectError(await api('GET', `/tenants/${twice.appid}`), 404, 'TENANT_NOT_FOUND');
    });

    it('queries: wrong values are 400 INVALID_QUERY', async () => {
      for (const q of ['limit=0', 'limit=201', 'limit=abc', 'limit=1&limit=2', 'status=gone', 'cursor=!!', 'cursor=Zm9v', `q=${'x'.repeat(101)}`]) {
        expectError(await api('GET', `/tenants?${q}`), 400, 'INVALID_QUERY');
      }
      expectError(await api('GET', `/tenants/${t.appid}/webhook/dead?limit=100000`), 400, 'INVALID_QUERY');
      expectError(await api('DELETE', '/merchants/123456?force=yes'), 400, 'INVALID_QUERY');
      // A regex in q is matched as text.
      expect((await api('GET', '/tenants?q=.*')).json.tenants).to.deep.equal([]);
    });

    it('unknown and malformed ids: 404 or 400 with the code of the thing', async () => {
      const ghost = makeTenant().appid;
      const cases: [string, string, number, string][] = [
        ['GET', `/tenants/${ghost}`, 404, 'TENANT_NOT_FOUND'],
        ['POST', `/tenants/${ghost}/disable`, 404, 'TENANT_NOT_FOUND'],
        ['POST', `/tenants/${ghost}/keys`, 404, 'TENANT_NOT_FOUND'],
        ['GET', `/tenants/${ghost}/webhook`, 404, 'TENANT_NOT_FOUND'],
        ['DELETE', `/tenants/${ghost}/users/o_x/sessions`, 404, 'TENANT_NOT_FOUND'],
        ['DELETE', `/tenants/${ghost}`, 404, 'TENANT_NOT_FOUND'],
        ['GET', '/tenants/..%2F..%2Fetc%2Fpasswd', 400, 'INVALID_APPID'],
        ['GET', `/tenants/${t.appid.toUpperCase()}`, 400, 'INVALID_APPID'],
        ['GET', `/tenants/${t.appid}%00`, 400, 'INVALID_APPID'],
        ['DELETE', `/tenants/%24where/keys/0123456789abcdef`, 400, 'INVALID_APPID'],
        ['DELETE', `/tenants/${t.appid}/keys/..%2F..`, 404, 'KEY_NOT_FOUND'],
        ['DELETE', `/tenants/${t.appid}/keys/${'f'.repeat(16)}`, 404, 'KEY_NOT_FOUND'],
        ['DELETE', `/tenants/${t.appid}/users/${'%7B%22%24ne%22%3A1%7D'}/sessions`, 400, 'INVALID_OPENID'],
        ['GET', '/merchants/..%2F1234567', 404, 'MERCHANT_NOT_FOUND'],
        ['GET', '/merchants/999999999999', 404, 'MERCHANT_NOT_FOUND'],
        ['GET', '/tenants/a/b/c/d/e', 404, 'NOT_FOUND'],
      ];
      for (const [method, path, status, code] of cases) {
        const r = await api(method, path, method === 'POST' ? { json: path.endsWith('/keys') ? { name: 'x' } : {} } : {});
        expectError(r, status, code);
      }
      // The tenant the probes named is untouched.
      expect((await api('GET', `/tenants/${t.appid}`)).json.tenant.status).to.equal('active');
    });
  });
});
