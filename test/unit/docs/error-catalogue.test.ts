import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ERROR_CATALOGUE } from '../../../src/kernel/error-catalogue';
import { repoRoot } from '../../../src/devstack/mongo-server';

/** The error catalogue is the one list of codes: the README table must say exactly what it says. */
describe('error catalogue matches the README', () => {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('\n## ', readme.indexOf('### Error codes')));

  it('has one README row per code, with its statuses and meaning', () => {
    for (const [code, e] of Object.entries(ERROR_CATALOGUE)) {
      expect(section, code).to.contain(`| ${e.status.join(' / ')} | \`${code}\` | ${e.meaning} |`);
    }
  });

  it('documents no code the catalogue does not have', () => {
    const documented = [...section.matchAll(/^\| [\d /]+ \| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(documented.filter((c) => !(c in ERROR_CATALOGUE))).to.deep.equal([]);
    expect(documented.length).to.equal(Object.keys(ERROR_CATALOGUE).length);
  });

  it('every code the gateway answers with in src/ is in the catalogue (the compiler checks AppError; this checks the rest)', () => {
    // /readyz builds its error body by hand; anything else would go through AppError.
    const health = readFileSync(path.join(repoRoot(), 'src/ops/health.ts'), 'utf8');
    for (const m of health.matchAll(/code: '([A-Z_]+)'/g)) expect(ERROR_CATALOGUE, m[1]).to.have.property(m[1]!);
  });
});
