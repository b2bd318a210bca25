import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness';
import { runTenantsCli, TEST_ADMIN_TOKEN } from '../support/gateway-process';
import { makeTenant, writeTenantFiles } from '../support/tenant-fixtures';
import { request } from '../support/http';

describe('audit log: CLI changes and WeChat-reported authorizations, in MongoDB, via the CLI and /admin/audit', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness(1);
  });
  after(async () => h.close());

  it('records who changed what, with before/after views whose secrets are masked', async () => {
    const t = makeTenant({ apiBase: h.sbx.url });
    const [file] = writeTenantFiles(t);
    const cli = (args: string[]) => runTenantsCli(args, { ALLOW_PRIVATE_URLS: 'true' });
    expect((await cli(['apply', file as string])).code).to.equal(0);
    expect((await cli(['disable', t.appid])).code).to.equal(0);
    expect((await cli(['enable', t.appid])).code).to.equal(0);
    const created = await cli(['keys', 'create', t.appid, '--name', 'backend']);
    const keyId = /key id: (\S+)/.exec(created.stdout)?.[1] as string;
    expect((await cli(['keys', 'revoke', t.appid, keyId])).code).to.equal(0);
    const [again] = writeTenantFiles({ ...t, name: 'Renamed shop' });
    expect((await cli(['apply', again as string])).code).to.equal(0);
    const mchKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const apiV3Key = randomBytes(16).toString('hex');
    const mchid = String(1_800_000_000 + Math.floor(Math.random() * 9_999_999));
    const [merchant] = writeTenantFiles({ mchid, name: 'Audit merchant', serialNo: 'ABCDEF0123456789', privateKey: mchKey, apiV3Key });
    expect((await cli(['merchants', 'apply', merchant as string])).code).to.equal(0);

    const shown = await cli(['audit', t.appid]);
    expect(shown.code, shown.stderr).to.equal(0);
    const lines = shown.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s{2,}/)[2])).to.deep.equal(['tenant.apply', 'key.revoke', 'key.create', 'tenant.enable', 'tenant.disable', 'tenant.apply']);
    expect(lines.every((l) => /^\d{4}-\d{2}-\d{2}T.*\s{2}cli@\S+/.test(l))).to.equal(true);

    const api = await request(`${h.url()}/admin/audit?appid=${t.appid}&limit=10`, { auth: TEST_ADMIN_TOKEN, timeoutMs: 5000 });
    expect(api.status).to.equal(200);
    const entries = api.json.entries as { action: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null; details?: Record<string, unknown> }[];
    expect(entries.map((e) => e.action)).to.deep.equal(['tenant.apply', 'key.revoke', 'key.create', 'tenant.enable', 'tenant.disable', 'tenant.apply']);
    expect(entries[0]?.before?.name).to.equal(t.name);
    expect(entries[0]?.after?.name).to.equal('Renamed shop');
    expect(entries[5]?.before).to.equal(null);
    const all = await request(`${h.url()}/admin/audit?limit=500`, { auth: TEST_ADMIN_TOKEN, timeoutMs: 5000 });
    expect((all.json.entries as { action: string; target: { id: string } }[]).some((e) => e.action === 'merchant.apply' && e.target.id === mchid)).to.equal(true);
    // Secrets never enter the audit log.
    for (const secret of [t.secret, t.token, t.aesKey, apiV3Key, mchKey.split('\n')[1] as string]) expect(all.text).to.not.contain(secret);
    const raw = JSON.stringify(await h.stores.conn.collection('audit_log').find({}).toArray());
    for (const secret of [t.secret, t.token, t.aesKey, apiV3Key]) expect(raw).to.not.contain(secret);
  });

  it('/admin/audit needs the admin token and refuses bad queries', async () => {
    expect((await request(`${h.url()}/admin/audit`, { timeoutMs: 5000 })).status).to.equal(401);
    expect((await request(`${h.url()}/admin/audit`, { auth: 'wrong-token-0123456789', timeoutMs: 5000 })).status).to.equal(403);
    for (const q of ['appid=nope', 'limit=0', 'limit=501', 'limit=abc']) {
      const r = await request(`${h.url()}/admin/audit?${q}`, { auth: TEST_ADMIN_TOKEN, timeoutMs: 5000 });
      expect([r.status, r.json.error.code], q).to.deep.equal([400, 'INVALID_QUERY']);
    }
  });
});
