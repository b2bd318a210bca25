import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Stores } from '../support/fleet';
import { runTenantsCli, type CliResult } from '../support/gateway-process';
import { makeTenant, writeTenantFiles } from '../support/tenant-fixtures';

const hex = (n: number) => randomBytes(n).toString('hex');
const platformFile = (o: Record<string, unknown> = {}) => ({
  componentAppid: 'wx' + hex(8),
  name: 'CLI platform',
  secret: hex(16),
  token: 'cliToken' + hex(4),
  aesKey: randomBytes(32).toString('base64').slice(0, 43),
  ...o,
});

/** No stack trace and none of `secrets` in anything the CLI printed. */
function clean(r: CliResult, secrets: string[]): void {
  const all = r.stdout + r.stderr;
  expect(all).to.not.match(/\n\s+at |\.js:\d+/);
  for (const s of secrets) expect(all, `leaked ${s}`).to.not.contain(s);
}

describe('platforms CLI and authorizer tenant files under bad input', function () {
  this.timeout(30_000);
  let stores: Stores;
  before(async () => {
    stores = await Stores.open();
  });
  after(async () => stores.close());
  const stored = (c: string) => stores.conn.collection('platforms').findOne({ componentAppid: c });

  it('apply: every bad file is reported by field, no value is echoed, and nothing is written', async () => {
    const good = platformFile();
    const bad = {
      secret: platformFile({ secret: 'not-a-hex-secret-SENSITIVE-1234567' }),
      token: platformFile({ token: 'bad token SENSITIVE!' }),
      aesKey: platformFile({ aesKey: 'SENSITIVE'.repeat(3) }),
      unknown: platformFile({ extra: 'SENSITIVE-extra', appsecret: 'SENSITIVE-appsecret' }),
      envUnset: platformFile({ secret: 'env:WXGATE_TEST_UNSET_SECRET' }),
      appid: platformFile({ componentAppid: 'WX0123' }),
      name: platformFile({ name: '' }),
      apiBase: platformFile({ apiBase: 'javascript:alert(1)' }),
    };
    const files = writeTenantFiles(good, ...Object.values(bad));
    // A JSON syntax error right next to a secret: the parser's message must not quote the text.
    const broken = path.join(path.dirname(files[0] as string), 'broken.json');
    const brokenSecret = hex(16);
    writeFileSync(broken, `{"componentAppid": "wx${hex(8)}", "secret": "${brokenSecret}" "token": "x"}`);
    const dup = writeTenantFiles([platformFile({ componentAppid: good.componentAppid })])[0] as string;
    const r = await runTenantsCli(['platforms', 'apply', ...files, broken, dup]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain('nothing was written');
    for (const field of ['secret', 'token', 'aesKey', 'extra', 'componentAppid', 'name', 'apiBase']) expect(r.stderr, field).to.match(new RegExp(`\\b${field}\\b`));
    expect(r.stderr).to.match(/broken\.json: cannot read JSON: not valid JSON/);
    expect(r.stderr).to.contain(`componentAppid ${good.componentAppid} is defined more than once`);
    clean(r, ['SENSITIVE', brokenSecret, good.secret, good.token, good.aesKey]);
    for (const p of [good, ...Object.values(bad)]) expect(await stored(p.componentAppid as string), String(p.componentAppid)).to.equal(null);
  });

  it('apply: apiBase on a private address is refused unless ALLOW_PRIVATE_URLS', async () => {
    const files = writeTenantFiles(
      platformFile({ apiBase: 'http://127.0.0.1:8080' }),
      platformFile({ apiBase: 'http://169.254.169.254/latest' }),
      platformFile({ apiBase: 'http://10.0.0.1' }),
    );
    const r = await runTenantsCli(['platforms', 'apply', ...files], { ALLOW_PRIVATE_URLS: 'false' });
    expect(r.code).to.not.equal(0);
    expect(r.stderr.match(/apiBase/g)?.length).to.equal(3);
    expect(r.stderr).to.contain('nothing was written');
    clean(r, []);
  });

  it('apply with env:NAME, show masks every secret, remove is refused while authorizers use it, bad arguments are refused', async () => {
    const secret = hex(16);
    const p = platformFile({ secret: 'env:WXGATE_TEST_PLATFORM_SECRET' });
    const [file] = writeTenantFiles(p);
    const applied = await runTenantsCli(['platforms', 'apply', file as string], { WXGATE_TEST_PLATFORM_SECRET: secret });
    expect(applied.code, applied.stderr).to.equal(0);
    const doc = JSON.stringify(await stored(p.componentAppid as string));
    for (const s of [secret, p.token as string, p.aesKey as string]) expect(doc).to.not.contain(s);
    await stores.conn
      .collection('authorizers')
      .insertOne({ componentAppid: p.componentAppid, appid: 'wx' + hex(8), refreshToken: 'v1.sealed', status: 'authorized', funcInfo: [], authorizedAt: new Date() });
    const [show, list] = await Promise.all([runTenantsCli(['platforms', 'show', p.componentAppid as string]), runTenantsCli(['platforms', 'list'])]);
    expect(show.code, show.stderr).to.equal(0);
    expect(JSON.parse(show.stdout).authorizers).to.have.length(1);
    expect(list.stdout).to.contain(p.componentAppid);
    for (const r of [show, list]) clean(r, [secret, p.token as string, p.aesKey as string]);
    const remove = await runTenantsCli(['platforms', 'remove', p.componentAppid as string]);
    expect(remove.code).to.not.equal(0);
    expect(remove.stderr).to.match(/1 authorizer\(s\).*--force/);
    expect(await stored(p.componentAppid as string)).to.not.equal(null);
    const refused = await Promise.all(
      [
        ['platforms', 'show', 'wx<script>'],
        ['platforms', 'sync', 'wx' + hex(8)],
        ['platforms', 'remove', 'WX' + hex(8)],
        ['platforms', 'frobnicate'],
      ].map((args) => runTenantsCli(args)),
    );
    for (const r of refused) {
      expect(r.code, r.stderr).to.not.equal(0);
      clean(r, [secret]);
    }
  });

  it('tenant files: an authorizer needs its component and has no secret; the kinds do not mix', async () => {
    const component = 'wx' + hex(8);
    const leaked = hex(16);
    const { secret: _s, tokenMode: _m, ...noSecret } = makeTenant();
    const cases = {
      withSecret: { ...makeTenant({ secret: leaked }), credential: 'authorizer', component },
      noComponent: { ...noSecret, credential: 'authorizer' },
      wrongTokenMode: { ...noSecret, credential: 'authorizer', component, tokenMode: 'stable' },
      badComponent: { ...noSecret, credential: 'authorizer', component: 'wx<script>' },
      appsecretWithComponent: { ...makeTenant(), component },
      appsecretAuthorizerMode: { ...makeTenant(), tokenMode: 'authorizer' },
      unknownKind: { ...noSecret, credential: 'component', component },
    };
    const files = writeTenantFiles(...Object.values(cases));
    const r = await runTenantsCli(['apply', ...files]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain('nothing was written');
    expect(r.stderr.match(/invalid fields/g)?.length, r.stderr).to.equal(Object.keys(cases).length);
    clean(r, [leaked]);
    for (const c of Object.values(cases)) expect(await stores.repo.find(c.appid)).to.equal(null);
    // The valid shape: no secret, token and aesKey optional.
    const { token: _t, aesKey: _k, ...bare } = noSecret;
    const ok = await runTenantsCli(['apply', writeTenantFiles({ ...bare, credential: 'authorizer', component })[0] as string]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(await stores.repo.find(bare.appid)).to.deep.include({ credential: 'authorizer', component, tokenMode: 'authorizer' });
  });
});
