import { expect } from 'chai';
import { runTenantsCli } from '../support/gateway-process';
import { makeTenant, writeTenantFiles, type TenantFixture } from '../support/tenant-fixtures';
import { applyTenants, cli, rawTenants, withRawMongo } from '../support/gateway-helpers';

/** The documents for these appids, straight from MongoDB. */
async function countTenants(...appids: string[]): Promise<number> {
  return (await rawTenants({ appid: { $in: appids } })).length;
}

function expectNoPlainSecrets(text: string, t: TenantFixture): void {
  expect(text).to.not.include(t.secret);
  expect(text).to.not.include(t.token);
  expect(text).to.not.include(t.aesKey);
}

describe('admin: tenants CLI', function () {
  this.timeout(30_000);

  describe('apply', () => {
    it('applying a file twice makes one document; the second run says unchanged', async () => {
      const t = makeTenant();
      const [file] = writeTenantFiles(t);
      const first = await cli(['apply', file as string]);
      expect(first.stdout).to.include(`${t.appid} created`);
      const second = await cli(['apply', file as string]);
      expect(second.stdout).to.include(`${t.appid} unchanged`);
      expect(second.stdout).to.not.match(/created|updated/);
      expect(await countTenants(t.appid)).to.equal(1);
      expectNoPlainSecrets(first.stdout + first.stderr + second.stdout + second.stderr, t);
    });

    it('a changed file is reported as updated and leaves one document', async () => {
      const t = makeTenant();
      await applyTenants(t);
      const before = (await rawTenants({ appid: t.appid }))[0]!;
      const r = await applyTenants({ ...t, name: 'Renamed shop' });
      expect(r.stdout).to.include(`${t.appid} updated`);
      const after = await rawTenants({ appid: t.appid });
      expect(after).to.have.length(1);
      expect(after[0]!.name).to.equal('Renamed shop');
      expect(String(after[0]!._id)).to.equal(String(before._id));
    });

    it('the bad file (bad appid + 10-char aesKey) exits 1, names both fields, writes nothing', async () => {
      const bad = { ...makeTenant(), appid: 'wx12345', aesKey: 'abcdefghij' };
      const [file] = writeTenantFiles(bad);
      const r = await runTenantsCli(['apply', file as string]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/^\s*appid: /m);
      expect(r.stderr).to.match(/^\s*aesKey: /m);
      expect(r.stderr).to.include(file as string);
      expect(r.stderr).to.include('nothing was written');
      expect(r.stderr).to.not.include(bad.secret);
      expect(await countTenants(bad.appid)).to.equal(0);
    });

    it('a bad file together with valid ones writes nothing at all, whatever the order', async () => {
      const good1 = makeTenant();
      const good2 = makeTenant();
      const bad = { ...makeTenant(), appid: 'WXBAD', aesKey: '0123456789' };
      const files = writeTenantFiles(good1, bad, good2);
      const r = await runTenantsCli(['apply', ...files]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.include(files[1] as string);
      expect(r.stderr).to.match(/appid/);
      expect(r.stderr).to.match(/aesKey/);
      expect(r.stdout).to.not.match(/created/);
      expect(await countTenants(good1.appid, good2.appid)).to.equal(0);
    });

    it('the same appid twice is refused and nothing is written', async () => {
      const t = makeTenant();
      const files = writeTenantFiles(t, { ...t, name: 'Other' });
      const r = await runTenantsCli(['apply', ...files]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(`appid ${t.appid} is defined more than once`);
      expect(await countTenants(t.appid)).to.equal(0);
    });

    it('apply without files is a usage error', async () => {
      const r = await runTenantsCli(['apply']);
      expect(r.code).to.equal(2);
    });
  });

  describe('list and show', () => {
    const t = makeTenant({ tokenMode: 'classic', msgFormat: 'xml' });
    before(() => applyTenants(t));

    it('list shows the tenant without secrets', async () => {
      const r = await cli(['list']);
      const line = r.stdout.split('\n').find((l) => l.startsWith(t.appid));
      expect(line, r.stdout).to.be.a('string');
      expect(line).to.include('active');
      expect(line).to.include('classic');
      expect(line).to.include('xml');
      expect(line).to.include(t.name);
      expectNoPlainSecrets(r.stdout + r.stderr, t);
    });

    it('list --json is JSON with masked secrets', async () => {
      const r = await cli(['list', '--json']);
      const list = JSON.parse(r.stdout) as Record<string, unknown>[];
      expect(list).to.be.an('array');
      const mine = list.find((x) => x.appid === t.appid);
      expect(mine, 'tenant missing from list --json').to.be.an('object');
      expect(mine!.name).to.equal(t.name);
      expect(mine!.secret).to.equal(`****${t.secret.slice(-4)} (32 chars)`);
      expect(mine!.aesKey).to.equal(`****${t.aesKey.slice(-4)} (43 chars)`);
      expect(mine!.token).to.match(/^\*\*\*\*/);
      expectNoPlainSecrets(r.stdout + r.stderr, t);
    });

    it('show <appid> masks secrets', async () => {
      const r = await cli(['show', t.appid]);
      const shown = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(shown.appid).to.equal(t.appid);
      expect(shown.name).to.equal(t.name);
      expect(shown.status).to.equal('active');
      expect(shown.tokenMode).to.equal('classic');
      expect(shown.msgFormat).to.equal('xml');
      expect(shown.secret).to.match(/^\*\*\*\*/);
      expectNoPlainSecrets(r.stdout + r.stderr, t);
    });

    it('show of an unknown appid exits 1; of a malformed one too', async () => {
      const unknown = await cli(['show', makeTenant().appid], 1);
      expect(unknown.stderr).to.match(/no tenant/);
      const malformed = await cli(['show', 'nope'], 1);
      expect(malformed.stderr).to.match(/invalid appid/);
    });
  });

  describe('disable, enable, remove', () => {
    it('change the stored status, then delete the tenant', async () => {
      const t = makeTenant();
      await applyTenants(t);
      const status = async () => (await rawTenants({ appid: t.appid }))[0]?.status;

      expect((await cli(['disable', t.appid])).stdout).to.include(`${t.appid} disabled`);
      expect(await status()).to.equal('disabled');
      expect((await cli(['enable', t.appid])).stdout).to.include(`${t.appid} enabled`);
      expect(await status()).to.equal('active');
      expect((await cli(['remove', t.appid])).stdout).to.include(`${t.appid} removed`);
      expect(await countTenants(t.appid)).to.equal(0);
    });

    it('an unknown appid exits 1 for each of them', async () => {
      const ghost = makeTenant().appid;
      for (const cmd of ['disable', 'enable', 'remove']) {
        const r = await cli([cmd, ghost], 1);
        expect(r.stderr).to.include(`no tenant ${ghost}`);
      }
      expect(await countTenants(ghost)).to.equal(0);
    });

    it('a missing appid is a usage error', async () => {
      await cli(['disable'], 2);
    });
  });

  describe('help and usage', () => {
    it('--help exits 0 and prints the usage', async () => {
      const r = await cli(['--help']);
      expect(r.stdout).to.match(/^Usage:/);
      for (const cmd of ['apply', 'list', 'show', 'disable', 'enable', 'remove', 'keys create']) expect(r.stdout).to.include(cmd);
    });

    it('an unknown command exits 2', async () => {
      const r = await cli(['frobnicate'], 2);
      expect(r.stderr).to.include('frobnicate');
    });

    it('no command exits 2 with the usage', async () => {
      const r = await cli([], 2);
      expect(r.stdout).to.match(/^Usage:/);
    });

    it('a bad SECRETS_KEY is reported without echoing it', async () => {
      const r = await runTenantsCli(['list'], { SECRETS_KEY: 'c2hvcnQta2V5' });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('SECRETS_KEY');
      expect(r.stderr).to.not.include('c2hvcnQta2V5');
    });
  });

  describe('keys', () => {
    const t = makeTenant();
    before(() => applyTenants(t));

    it('create prints a key once, list shows it, revoke revokes it', async () => {
      const created = await cli(['keys', 'create', t.appid, '--name', 'orders-service']);
      const keyId = /key id: ([0-9a-f]{16})/.exec(created.stdout)?.[1];
      const key = /key:\s+(wxk_\S+)/.exec(created.stdout)?.[1];
      expect(keyId, created.stdout).to.be.a('string');
      expect(key, created.stdout).to.be.a('string');
      expect(key!.startsWith(`wxk_${keyId}_`)).to.equal(true);
      expect(created.stdout.split(key!).length - 1).to.equal(1);

      const secretPart = key!.slice(`wxk_${keyId}_`.length);
      const stored = await withRawMongo((db) => db.collection('service_keys').find({ keyId }).toArray());
      expect(stored).to.have.length(1);
      expect(stored[0]!.appid).to.equal(t.appid);
      expect(JSON.stringify(stored)).to.not.include(secretPart);

      const listed = await cli(['keys', 'list', t.appid]);
      const line = listed.stdout.split('\n').find((l) => l.startsWith(keyId!));
      expect(line, listed.stdout).to.be.a('string');
      expect(line).to.include('active');
      expect(line).to.include('orders-service');
      expect(listed.stdout).to.not.include(secretPart);

      const revoked = await cli(['keys', 'revoke', t.appid, keyId!]);
      expect(revoked.stdout).to.include(`${keyId} revoked`);
      const relisted = await cli(['keys', 'list', t.appid]);
      expect(relisted.stdout.split('\n').find((l) => l.startsWith(keyId!))).to.match(/revoked \d{4}-/);

      // Revoking twice, or a key of another tenant, fails.
      await cli(['keys', 'revoke', t.appid, keyId!], 1);
    });

    it('create for an unknown tenant exits 1 and stores nothing; without --name exits 2', async () => {
      const ghost = makeTenant().appid;
      await cli(['keys', 'create', ghost, '--name', 'x'], 1);
      expect(await withRawMongo((db) => db.collection('service_keys').countDocuments({ appid: ghost }))).to.equal(0);
      await cli(['keys', 'create', t.appid], 2);
    });

    it("a key cannot be revoked through another tenant's appid", async () => {
      const other = makeTenant();
      await applyTenants(other);
      const created = await cli(['keys', 'create', t.appid, '--name', 'x']);
      const keyId = /key id: ([0-9a-f]{16})/.exec(created.stdout)![1]!;
      await cli(['keys', 'revoke', other.appid, keyId], 1);
      const listed = await cli(['keys', 'list', t.appid]);
      expect(listed.stdout.split('\n').find((l) => l.startsWith(keyId))).to.include('active');
    });
  });
});
