import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { configSpec } from '../../../src/kernel/config';
import { TENANTS_HELP } from '../../../src/admin/cli/tenants-cli';
import { repoRoot } from '../../../src/devstack/mongo-server';
import { tenantSections } from '../../../src/composition/features';
import { parseMerchantDefinition } from '../../../src/merchants/merchant';
import { generateKeyPairSync } from 'node:crypto';

/** The README is part of the interface: its tables and usage text must match the code. */
describe('README matches the code', () => {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');

  it('has one env-table row per configuration variable, with its default', () => {
    for (const [name, entry] of Object.entries(configSpec)) {
      const row = `| \`${name}\` | ${entry.default === undefined ? '—' : '`' + entry.default + '`'} | ${entry.doc} |`;
      expect(readme, name).to.contain(row);
    }
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((n) => !(n! in configSpec))).to.deep.equal([]);
  });

  it('shows the tenants CLI usage exactly as --help prints it', () => {
    expect(readme).to.contain('```text\n' + TENANTS_HELP + '\n```');
  });

  it('shows tenants/example.json as it is', () => {
    const example = readFileSync(path.join(repoRoot(), 'tenants/example.json'), 'utf8').trim();
    expect(readme).to.contain('```json\n' + example + '\n```');
  });

  it('shows tenants/merchants/example.json as it is, and that file is a valid merchant once its env secrets are set', () => {
    const example = readFileSync(path.join(repoRoot(), 'tenants/merchants/example.json'), 'utf8').trim();
    expect(readme).to.contain('```json\n' + example + '\n```');
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const env = {
      DEMO_MCH_PRIVATE_KEY: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      DEMO_MCH_APIV3_KEY: 'k'.repeat(32),
      DEMO_MCH_PUBLIC_KEY: platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const m = parseMerchantDefinition(JSON.parse(example), 'example');
      expect(m).to.include({ mchid: '1900000109', apiV3Key: 'k'.repeat(32), publicKeyId: 'PUB_KEY_ID_0119000001092025000000000000' });
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    }
  });

  it('has one tenant-file table row per field the core and the feature sections accept', () => {
    const section = readme.slice(readme.indexOf('## Tenant file'), readme.indexOf('\n## ', readme.indexOf('## Tenant file')));
    const documented = [...section.matchAll(/^\| `([a-zA-Z]+)` \| (?:yes|no)\b/gm)].map((m) => m[1]);
    expect([...documented].sort()).to.deep.equal([...tenantSections.fieldNames].sort());
  });

  it('puts the two commands first', () => {
    const firstScreen = readme.split('\n').slice(0, 20).join('\n');
    expect(firstScreen).to.contain('npm run sandbox').and.to.contain('docker compose up').and.to.contain('npm test');
  });
});
