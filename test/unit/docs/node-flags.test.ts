import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../../src/devstack/mongo-server';
import { GATEWAY_NODE_FLAGS } from '../../../src/devstack/node-flags';

/** The gateway's Node flags are written in three places; the benches use the constant, production the other two. */
describe('the gateway runs with the same Node flags everywhere', () => {
  const read = (f: string) => readFileSync(path.join(repoRoot(), f), 'utf8');

  it('npm start passes them', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).to.equal(['node', ...GATEWAY_NODE_FLAGS, 'dist/src/main.js'].join(' '));
  });

  it("the Dockerfile's CMD passes them", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).to.deep.equal(['node', ...GATEWAY_NODE_FLAGS, 'dist/src/main.js']);
  });

  it('the README says what npm start runs', () => {
    expect(read('README.md')).to.contain(`\`npm start\` runs \`${['node', ...GATEWAY_NODE_FLAGS, 'dist/src/main.js'].join(' ')}\``);
  });
});
