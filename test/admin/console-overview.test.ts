import { expect } from 'chai';
import { buildPush, deliverPush, samplePush } from '../../src/sandbox/push-simulator';
import { startHarness, type Harness } from '../support/harness';
import { TEST_ADMIN_TOKEN } from '../support/gateway-process';
import { expectErrorBody, pollUntil } from '../support/gateway-helpers';
import { makeTenant } from '../support/tenant-fixtures';

interface Row {
  appid: string;
  name: string;
  status: string;
  token: { ageS: number | null; lastError: { at: string; code: string; message: string } | null };
  pushes: { accepted1h: number; rejected1h: number };
  webhook: { backlog: number; oldestPendingAgeS: number | null; dead: number };
  rateLimited1h: number;
}

/** GET /admin/overview: the console's one read, across two gateway processes sharing Redis. */
describe('admin: GET /admin/overview (operator console data)', function () {
  this.timeout(120_000);
  let h: Harness;
  const tag = `ov${Date.now().toString(36)}`;

  before(async () => {
    h = await startHarness(2);
  });
  after(async () => {
    await h?.close();
  });

  const overview = async (query = '', gateway = 0) => {
    const r = await h.req('GET', `/admin/overview${query}`, { auth: TEST_ADMIN_TOKEN, gateway });
    expect(r.status, r.text).to.equal(200);
    return r.json as { tenants: Row[]; nextCursor: string | null };
  };
  const rowOf = async (appid: string, gateway = 0): Promise<Row> => {
    const page = await overview(`?q=${appid}`, gateway);
    const row = page.tenants.find((t) => t.appid === appid);
    if (!row) throw new Error(`${appid} not in the overview`);
    return row;
  };

  describe('refuses', () => {
    it('a missing, malformed or wrong admin token (401 UNAUTHENTICATED / 403 FORBIDDEN), before looking at the query', async () => {
      expectErrorBody(await h.req('GET', '/admin/overview'), 401, 'UNAUTHENTICATED');
      expectErrorBody(await h.req('GET', '/admin/overview', { headers: { authorization: `Basic ${TEST_ADMIN_TOKEN}` } }), 401, 'UNAUTHENTICATED');
      expectErrorBody(await h.req('GET', '/admin/overview?limit=0', { auth: 'not-the-token' }), 403, 'FORBIDDEN');
      expectErrorBody(await h.req('GET', '/admin/overview', { auth: TEST_ADMIN_TOKEN + 'x' }), 403, 'FORBIDDEN');
      const r = await h.req('GET', '/admin/overview', { auth: 'a'.repeat(5000) });
      expectErrorBody(r, 403, 'FORBIDDEN');
      expect(r.text).not.to.contain('aaaa');
    });

    for (const [what, query] of [
      ['limit 0', '?limit=0'],
      ['limit above 200', '?limit=201'],
      ['a limit that is not a number', '?limit=ten'],
      ['a negative limit', '?limit=-1'],
      ['a limit given twice', '?limit=1&limit=2'],
      ['an unknown parameter', '?status=active'],
      ['an empty q', '?q='],
      ['a q over 100 characters', `?q=${'x'.repeat(101)}`],
      ['a forged cursor', `?cursor=${Buffer.from(JSON.stringify({ after: 'not-an-appid' })).toString('base64url')}`],
      ['a cursor that is not base64 JSON', '?cursor=%%%'],
      ['an oversized cursor', `?cursor=${'A'.repeat(300)}`],
    ]) {
      it(`${what}: 400 INVALID_QUERY naming the parameter`, async () => {
        const r = await h.req('GET', `/admin/overview${query}`, { auth: TEST_ADMIN_TOKEN });
        expect(r.status, r.text).to.equal(400);
        const e = (r.json as { error: { code: string; message: string } }).error;
        expect(e.code).to.equal('INVALID_QUERY');
        expect(e.message).to.match(/^(limit|cursor|q|query): /);
        expect(r.text).not.to.match(/\.js:\d+|\n\s*at /);
      });
    }

    it('the console page holds no data: served the same with any or no token, other methods and paths refused', async () => {
      const plain = await h.req('GET', '/admin/console');
      const forged = await h.req('GET', '/admin/console', { auth: 'forged' });
      expect(plain.status).to.equal(200);
      expect(plain.headers.get('content-type')).to.match(/^text\/html/);
      expect(forged.text).to.equal(plain.text);
      expect(plain.text).not.to.contain(TEST_ADMIN_TOKEN);
      expect(plain.headers.get('content-security-policy')).to.match(/^default-src 'none'; script-src 'self'/);
      const js = await h.req('GET', '/admin/console/console.js');
      expect(js.headers.get('content-type')).to.match(/^text\/javascript/);
      expect(js.text).not.to.contain('sourceMappingURL');
      expectErrorBody(await h.req('POST', '/admin/console', { json: {} }), 404, 'NOT_FOUND');
      // Nothing else is served under the console's path, with a token or without.
      expectErrorBody(await h.req('GET', '/admin/console/other.js'), 404, 'NOT_FOUND');
      expectErrorBody(await h.req('GET', '/admin/console/../overview'), 401, 'UNAUTHENTICATED');
      expectErrorBody(await h.req('GET', '/admin/console/other.js', { auth: TEST_ADMIN_TOKEN }), 404, 'NOT_FOUND');
    });

    it('a q that looks like a regular expression is matched literally', async () => {
      const page = await overview(`?q=${encodeURIComponent('.*')}`);
      expect(page.tenants).to.deep.equal([]);
    });
  });

  it('pages through tenants in appid order with an opaque cursor, and filters by appid or name', async () => {
    const made = await Promise.all([1, 2, 3].map((i) => h.tenant({ name: `${tag} shop ${i}` })));
    const appids = made.map((m) => m.appid).sort();
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 3; i++) {
      const page: { tenants: Row[]; nextCursor: string | null } = await overview(`?limit=1&q=${tag}${cursor ? `&cursor=${cursor}` : ''}`, i % 2);
      expect(page.tenants).to.have.length(1);
      seen.push(page.tenants[0]!.appid);
      cursor = page.nextCursor;
      if (i < 2) expect(cursor).to.be.a('string');
    }
    expect(cursor).to.equal(null);
    expect(seen).to.deep.equal(appids);
    // By name, case-insensitively; by appid substring.
    expect((await overview(`?q=${tag.toUpperCase()}%20SHOP%202`)).tenants.map((t) => t.name)).to.deep.equal([`${tag} shop 2`]);
    expect((await overview(`?q=${appids[0]!.slice(4, 14)}`)).tenants.map((t) => t.appid)).to.include(appids[0]);
    const row = await rowOf(appids[0]!);
    expect(row).to.deep.include({ status: 'active', rateLimited1h: 0, pushes: { accepted1h: 0, rejected1h: 0 } });
    expect(row.webhook).to.deep.equal({ backlog: 0, retrying: 0, oldestPendingAgeS: null, dead: 0 });
    expect(row.token).to.deep.equal({ ageS: null, lastError: null });
    expect(JSON.stringify(row)).not.to.contain(made.find((m) => m.appid === appids[0])!.t.secret);
  });

  it('counts pushes accepted and rejected on both gateways together, and rate-limit hits (with wxgate_rate_limited_total)', async () => {
    const { t, appid } = await h.tenant({ name: `${tag} busy`, limits: { login: '2/m' } });
    for (const g of [0, 1, 0]) {
      const [a] = await deliverPush(`${h.url(g)}/${appid}/portal`, buildPush(t, samplePush('text', { content: `hi ${g}` }), { format: 'json', mode: 'safe' }));
      expect(a!.status, a!.body).to.equal(200);
    }
    const forged = buildPush({ ...t, token: 'not-the-token' }, samplePush('text'), { format: 'json', mode: 'safe' });
    // Once: WeChat would retry a refused push three times, and each try counts.
    const [refused] = await deliverPush(`${h.url(1)}/${appid}/portal`, forged, { retries: 0 });
    expect(refused!.status).to.equal(401);
    const logins = [];
    for (let i = 0; i < 4; i++) logins.push((await h.login(appid, `test:u${i}`, i % 2)).status);
    expect(logins.filter((s) => s === 429)).to.have.length(2);

    // Counts reach Redis within a flush interval (5 s) of each instance.
    let last: Row | undefined;
    await pollUntil(
      async () => {
        last = await rowOf(appid, 1);
        return last.pushes.accepted1h === 3 && last.pushes.rejected1h === 1 && last.rateLimited1h === 2;
      },
      { withinMs: 20_000, everyMs: 500, what: 'activity counts', last: () => JSON.stringify(last) },
    );
    const metrics = (await h.req('GET', '/metrics')).text + (await h.req('GET', '/metrics', { gateway: 1 })).text;
    const hits = [...metrics.matchAll(new RegExp(`wxgate_rate_limited_total\\{appid="${appid}",class="login"\\} (\\d+)`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
    expect(hits).to.equal(2);
  });

  it("shows a token's age once fetched, and the last fetch error (code and message, no secret)", async () => {
    const ok = await h.tenant({ name: `${tag} token ok` });
    const r = await h.req('GET', `/${ok.appid}/access-token`, { auth: ok.key });
    expect(r.status, r.text).to.equal(200);
    const okRow = await rowOf(ok.appid, 1);
    expect(okRow.token.ageS).to.be.a('number').within(0, 60);
    expect(okRow.token.lastError).to.equal(null);

    // A tenant WeChat does not know (not registered in the sandbox): its token fetch fails.
    const bad = makeTenant({ apiBase: h.sbx.url, name: `${tag} token bad` });
    await h.stores.seed(bad);
    const key = await h.stores.key(bad.appid);
    const refused = await h.req('GET', `/${bad.appid}/access-token`, { auth: key });
    expect(refused.status).to.be.within(400, 599);
    const badRow = await rowOf(bad.appid);
    expect(badRow.token.ageS).to.equal(null);
    expect(badRow.token.lastError).to.be.an('object');
    expect(badRow.token.lastError!.code).to.equal(refused.json.error.code);
    expect(Date.parse(badRow.token.lastError!.at)).to.be.closeTo(Date.now(), 60_000);
    expect(JSON.stringify(badRow)).not.to.contain(bad.secret);
  });
});
