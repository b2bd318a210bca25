import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parseTenantDefinition } from '../../src/composition/features';
import { TenantFileError } from '../../src/tenancy/tenant-sections';
import { repoRoot } from '../../src/devstack/mongo-server';
import { makeTenant } from '../support/tenant-fixtures';

/** Sets env vars for the duration of one test and restores what was there before. */
function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Runs parseTenantDefinition and returns the TenantFileError it must throw. */
function refused(input: unknown, source = 'test.json'): TenantFileError {
  try {
    parseTenantDefinition(input, source);
  } catch (err) {
    expect(err).to.be.instanceOf(TenantFileError);
    return err as TenantFileError;
  }
  throw new Error('parseTenantDefinition accepted an invalid file');
}

const paths = (e: TenantFileError) => e.fields.map((f) => f.path).sort();

describe('tenancy: tenant definition file', () => {
  const fixture = makeTenant();
  const demoEnv = { DEMO_SHOP_SECRET: fixture.secret, DEMO_SHOP_PUSH_TOKEN: fixture.token, DEMO_SHOP_AES_KEY: fixture.aesKey };

  it('tenants/example.json parses once its env vars are set', () => {
    const raw = JSON.parse(readFileSync(path.join(repoRoot(), 'tenants', 'example.json'), 'utf8')) as Record<string, unknown>;
    withEnv(demoEnv, () => {
      const d = parseTenantDefinition(raw, 'tenants/example.json');
      expect(d.appid).to.equal('wx0123456789abcdef');
      expect(d.name).to.equal('Demo shop');
      expect(d.secret).to.equal(fixture.secret);
      expect(d.token).to.equal(fixture.token);
      expect(d.aesKey).to.equal(fixture.aesKey);
      expect(d.apiBase).to.equal('https://api.weixin.qq.com');
      expect(d.status).to.equal('active');
    });
  });

  it('tenants/example.json without its env vars names every missing variable', () => {
    const raw = JSON.parse(readFileSync(path.join(repoRoot(), 'tenants', 'example.json'), 'utf8')) as unknown;
    withEnv({ DEMO_SHOP_SECRET: undefined, DEMO_SHOP_PUSH_TOKEN: undefined, DEMO_SHOP_AES_KEY: '' }, () => {
      const e = refused(raw, 'tenants/example.json');
      expect(paths(e)).to.deep.equal(['aesKey', 'secret', 'token']);
      expect(e.message).to.include('DEMO_SHOP_SECRET');
      expect(e.message).to.include('DEMO_SHOP_PUSH_TOKEN');
      expect(e.message).to.include('DEMO_SHOP_AES_KEY');
      expect(e.message).to.include('tenants/example.json');
    });
  });

  it('resolves env:NAME from process.env for every secret-bearing field', () => {
    const t = makeTenant();
    withEnv({ FND_SECRET: t.secret, FND_TOKEN: t.token, FND_AES: t.aesKey, FND_HOOK: 'hook-secret-0123456789' }, () => {
      const d = parseTenantDefinition(
        { ...t, secret: 'env:FND_SECRET', token: 'env:FND_TOKEN', aesKey: 'env:FND_AES', webhook: { url: 'https://hooks.example.com/wx', secret: 'env:FND_HOOK' } },
        'x.json',
      );
      expect(d.secret).to.equal(t.secret);
      expect(d.token).to.equal(t.token);
      expect(d.aesKey).to.equal(t.aesKey);
      expect(d.webhook).to.deep.equal({ url: 'https://hooks.example.com/wx', secret: 'hook-secret-0123456789' });
    });
  });

  it('names a missing env var', () => {
    withEnv({ FND_MISSING_SECRET: undefined }, () => {
      const e = refused({ ...makeTenant(), secret: 'env:FND_MISSING_SECRET' });
      expect(paths(e)).to.deep.equal(['secret']);
      expect(e.fields[0]?.message).to.include('FND_MISSING_SECRET');
    });
  });

  it('checks a resolved env value against the field rule', () => {
    withEnv({ FND_BAD_AES: 'too-short' }, () => {
      const e = refused({ ...makeTenant(), aesKey: 'env:FND_BAD_AES' });
      expect(paths(e)).to.deep.equal(['aesKey']);
      expect(e.message).to.not.include('too-short');
    });
  });

  it('refuses a bad appid AND a 10-character aesKey, naming both fields', () => {
    const e = refused({ ...makeTenant(), appid: 'wxNOTVALID', aesKey: 'abcdefghij' }, 'bad.json');
    expect(paths(e)).to.deep.equal(['aesKey', 'appid']);
    expect(e.message).to.include('bad.json');
    expect(e.fields.find((f) => f.path === 'aesKey')?.message).to.match(/43/);
    expect(e.fields.find((f) => f.path === 'appid')?.message).to.match(/16 lowercase hex/);
  });

  it('never echoes an invalid secret in the error', () => {
    const badSecret = 'NOT-HEX-but-very-secret-value-xyz';
    const e = refused({ ...makeTenant(), secret: badSecret }, 'bad.json');
    expect(paths(e)).to.deep.equal(['secret']);
    expect(e.message).to.not.include(badSecret);
    expect(JSON.stringify(e.fields)).to.not.include(badSecret);
  });

  it('refuses unknown fields, naming them', () => {
    const e = refused({ ...makeTenant(), appsecret: 'x', extra: 1 });
    expect(e.message).to.include('appsecret');
    expect(e.message).to.include('extra');
  });

  it('refuses unknown fields inside webhook', () => {
    const e = refused({ ...makeTenant(), webhook: { url: 'https://h.example.com', secret: 'hook-secret-0123456789', retries: 3 } });
    expect(paths(e)).to.deep.equal(['webhook']);
    expect(e.message).to.include('retries');
  });

  it('refuses missing required fields, naming each', () => {
    const e = refused({ appid: makeTenant().appid });
    expect(paths(e)).to.deep.equal(['aesKey', 'name', 'secret', 'token']);
  });

  it('refuses bad enums and URLs', () => {
    const e = refused({ ...makeTenant(), msgFormat: 'yaml', tokenMode: 'fast', status: 'paused', apiBase: 'ftp://x' });
    expect(paths(e)).to.deep.equal(['apiBase', 'msgFormat', 'status', 'tokenMode']);
  });

  it('applies defaults: msgFormat json, tokenMode stable, status active, no rules', () => {
    const t = makeTenant();
    const d = parseTenantDefinition({ appid: t.appid, name: t.name, secret: t.secret, token: t.token, aesKey: t.aesKey }, 'min.json');
    expect(d.msgFormat).to.equal('json');
    expect(d.tokenMode).to.equal('stable');
    expect(d.status).to.equal('active');
    expect(d.rules).to.deep.equal([]);
    expect(d).to.not.have.property('apiBase');
    expect(d).to.not.have.property('webhook');
  });

  it('keeps explicit non-default values', () => {
    const t = makeTenant({ msgFormat: 'xml', tokenMode: 'classic', status: 'disabled' });
    const d = parseTenantDefinition(t, 't.json');
    expect(d.msgFormat).to.equal('xml');
    expect(d.tokenMode).to.equal('classic');
    expect(d.status).to.equal('disabled');
  });

  it('a non-object is refused', () => {
    const e = refused('just a string');
    expect(paths(e)).to.deep.equal(['(file)']);
  });
});
