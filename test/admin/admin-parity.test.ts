import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness';
import { runTenantsCli, type CliResult } from '../support/gateway-process';
import { makeTenant, writeTenantFiles, type TenantFixture } from '../support/tenant-fixtures';
import { request, type HttpResult } from '../support/http';

const ALICE = 'alice-token-' + randomBytes(12).toString('hex');

/** The error code the CLI printed (`error: [CODE] message`). */
function cliCode(r: CliResult): string | undefined {
  return /^error: \[([A-Z_]+)\]/m.exec(r.stderr)?.[1];
}

/** A tenant view without what differs between the two tenants by construction (appid, times). */
function comparable(view: Record<string, unknown>): Record<string, unknown> {
  const { appid: _a, createdAt: _c, updatedAt: _u, ...rest } = view;
  return rest;
}

/**
 * The CLI and the admin API share one implementation of each operation: the same operation on two
 * tenants defined alike (one through each) must leave the same stored result, and the same failure
 * must carry the same error code.
 */
describe('admin: CLI and API parity', function () {
  this.timeout(120_000);
  let h: Harness;
  const base = makeTenant();
  let viaCli: TenantFixture;
  let viaApi: TenantFixture;

  const api = (method: string, path: string, json?: unknown): Promise<HttpResult> =>
    request(`${h.url()}/admin${path}`, { method, auth: ALICE, ...(json !== undefined ? { jsonBody: json } : {}), timeoutMs: 30_000 });
  const cli = (args: string[]) => runTenantsCli(args);
  const view = async (appid: string) => {
    const r = await api('GET', `/tenants/${appid}`);
    expect(r.status, r.text).to.equal(200);
    return r.json.tenant as Record<string, unknown>;
  };
  const expectSameViews = async () => expect(comparable(await view(viaCli.appid))).to.deep.equal(comparable(await view(viaApi.appid)));

  before(async () => {
    h = await startHarness(1, { ADMIN_TOKENS: `alice:${ALICE}` });
    viaCli = { ...base, apiBase: h.sbx.url, appid: 'wx' + randomBytes(8).toString('hex') };
    viaApi = { ...viaCli, appid: 'wx' + randomBytes(8).toString('hex') };
  });
  after(async () => h?.close());

  it('apply: the same definition gives the same stored tenant, both audited as created', async () => {
    const [file] = writeTenantFiles(viaCli);
    const c = await cli(['apply', file as string]);
    expect(c.code, c.stderr).to.equal(0);
    expect(c.stdout).to.include(`${viaCli.appid} created`);
    const a = await api('POST', '/tenants', viaApi);
    expect(a.status, a.text).to.equal(200);
    expect(a.json.applied).to.deep.equal([{ appid: viaApi.appid, name: viaApi.name, status: 'active', action: 'created' }]);
    await expectSameViews();
    const audit = await api('GET', `/audit?appid=${viaApi.appid}`);
    expect(audit.json.entries[0]).to.include({ actor: 'admin:alice', action: 'tenant.apply' });
    expect(audit.json.entries[0].details).to.deep.equal({ outcome: 'created' });
    // Applying again changes nothing, through either.
    expect((await api('POST', '/tenants', { tenants: [viaApi] })).json.applied[0].action).to.equal('unchanged');
  });

  it('disable and enable: the same stored status through both', async () => {
    expect((await cli(['disable', viaCli.appid])).code).to.equal(0);
    const d = await api('POST', `/tenants/${viaApi.appid}/disable`);
    expect([d.status, d.json.tenant.status], d.text).to.deep.equal([200, 'disabled']);
    await expectSameViews();
    // The disabled tenant is refused by the gateway at once (the change was announced).
    expect((await h.req('GET', `/${viaApi.appid}`)).json.error.code).to.equal('TENANT_DISABLED');
    expect((await cli(['enable', viaCli.appid])).code).to.equal(0);
    expect((await api('POST', `/tenants/${viaApi.appid}/enable`)).json.tenant.status).to.equal('active');
    await expectSameViews();
  });

  it('keys create and revoke: the same stored keys through both', async () => {
    const c = await cli(['keys', 'create', viaCli.appid, '--name', 'backend']);
    expect(c.code, c.stderr).to.equal(0);
    const cliKeyId = /key id: (\S+)/.exec(c.stdout)?.[1] as string;
    const a = await api('POST', `/tenants/${viaApi.appid}/keys`, { name: 'backend' });
    expect(a.status, a.text).to.equal(201);
    expect(a.json.secret).to.match(/^wxk_/);
    // The new key works on the gateway.
    expect((await h.req('GET', `/${viaApi.appid}/access-token`, { auth: a.json.secret as string })).status).to.not.equal(401);
    const keysOf = async (appid: string) =>
      ((await api('GET', `/tenants/${appid}/keys`)).json.keys as { name: string; revokedAt: string | null }[]).map((k) => ({ name: k.name, revoked: k.revokedAt !== null }));
    expect(await keysOf(viaCli.appid)).to.deep.equal(await keysOf(viaApi.appid));

    expect((await cli(['keys', 'revoke', viaCli.appid, cliKeyId])).code).to.equal(0);
    const r = await api('DELETE', `/tenants/${viaApi.appid}/keys/${a.json.key.id as string}`);
    expect(r.json.revoked, r.text).to.equal(a.json.key.id);
    expect(await keysOf(viaCli.appid)).to.deep.equal([{ name: 'backend', revoked: true }]);
    expect(await keysOf(viaApi.appid)).to.deep.equal([{ name: 'backend', revoked: true }]);
    const refused = await h.req('GET', `/${viaApi.appid}/access-token`, { auth: a.json.secret as string });
    expect(refused.json.error.code).to.equal('INVALID_API_KEY');
    // Revoking again: the same code through both.
    const [again, againApi] = await Promise.all([cli(['keys', 'revoke', viaCli.appid, cliKeyId]), api('DELETE', `/tenants/${viaApi.appid}/keys/${a.json.key.id as string}`)]);
    expect([cliCode(again), again.code]).to.deep.equal(['KEY_NOT_FOUND', 1]);
    expect([againApi.status, againApi.json.error.code]).to.deep.equal([404, 'KEY_NOT_FOUND']);
  });

  it('an invalid definition: the same code and the same fields named, nothing written', async () => {
    const bad = { ...makeTenant(), appid: 'wx' + randomBytes(8).toString('hex'), aesKey: 'short', msgFormat: 'yaml' };
    const [file] = writeTenantFiles(bad);
    const [c, a] = await Promise.all([cli(['apply', file as string]), api('POST', '/tenants', bad)]);
    expect([cliCode(c), c.code], c.stderr).to.deep.equal(['INVALID_DEFINITION', 1]);
    expect([a.status, a.json.error.code], a.text).to.deep.equal([400, 'INVALID_DEFINITION']);
    const apiFields = (a.json.error.details.problems as { path: string }[]).map((p) => p.path).sort();
    const cliFields = [...c.stderr.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]).sort();
    expect(apiFields).to.deep.equal(['aesKey', 'msgFormat']);
    expect(cliFields).to.deep.equal(apiFields);
    expect(a.text + c.stderr).to.not.include(bad.secret);
    expect((await api('GET', `/tenants/${bad.appid}`)).status).to.equal(404);
  });

  it('an unknown or malformed appid: the same codes through both', async () => {
    const ghost = makeTenant().appid;
    const cases: [string[], string, string, string][] = [
      [['disable', ghost], 'POST', `/tenants/${ghost}/disable`, 'TENANT_NOT_FOUND'],
      [['remove', ghost], 'DELETE', `/tenants/${ghost}`, 'TENANT_NOT_FOUND'],
      [['keys', 'create', ghost, '--name', 'x'], 'POST', `/tenants/${ghost}/keys`, 'TENANT_NOT_FOUND'],
      [['show', 'wxNOPE'], 'GET', '/tenants/wxNOPE', 'INVALID_APPID'],
    ];
    const results = await Promise.all(
      cases.map(async ([args, method, path]) => [await cli(args), await api(method, path, method === 'POST' && path.endsWith('/keys') ? { name: 'x' } : undefined)] as const),
    );
    for (const [i, [c, a]] of results.entries()) {
      const code = cases[i]![3];
      expect([cliCode(c), c.code], `${cases[i]![0].join(' ')}: ${c.stderr}`).to.deep.equal([code, 1]);
      expect(a.json.error.code, a.text).to.equal(code);
    }
  });

  it('remove: both gone, both audited with their actor', async () => {
    expect((await cli(['remove', viaCli.appid])).code).to.equal(0);
    expect((await api('DELETE', `/tenants/${viaApi.appid}`)).json).to.deep.equal({ removed: viaApi.appid });
    for (const appid of [viaCli.appid, viaApi.appid]) expect((await api('GET', `/tenants/${appid}`)).json.error.code).to.equal('TENANT_NOT_FOUND');
    const actorsOf = async (appid: string) => ((await api('GET', `/audit?appid=${appid}`)).json.entries as { actor: string; action: string }[]).map((e) => [e.action, e.actor.split('@')[0]]);
    const cliLog = await actorsOf(viaCli.appid);
    const apiLog = await actorsOf(viaApi.appid);
    expect(cliLog.map((e) => e[0])).to.deep.equal(apiLog.map((e) => e[0]));
    expect(cliLog.every((e) => e[1] === 'cli')).to.equal(true);
    expect(apiLog.every((e) => e[1] === 'admin:alice')).to.equal(true);
    expect(apiLog.map((e) => e[0])).to.deep.equal(['tenant.remove', 'key.revoke', 'key.create', 'tenant.enable', 'tenant.disable', 'tenant.apply']);
  });
});
