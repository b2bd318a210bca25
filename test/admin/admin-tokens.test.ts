import { expect } from 'chai';
import { loadConfigSubset } from '../../src/kernel/config';
import { ConfigError } from '../../src/kernel/errors';
import { adminActor, operatorOf } from '../../src/auth/admin-auth';

const A = 'a'.repeat(24);
const B = 'b'.repeat(30);

describe('admin: ADMIN_TOKENS and operator tokens', () => {
  const parse = (v: string | undefined) => loadConfigSubset({ ...(v === undefined ? {} : { ADMIN_TOKENS: v }) }, ['ADMIN_TOKENS']).ADMIN_TOKENS;

  it('parses name:token pairs; unset is none', () => {
    expect(parse(undefined)).to.equal(undefined);
    expect(parse(`alice:${A}, bob:${B}`)).to.deep.equal([
      { name: 'alice', token: A },
      { name: 'bob', token: B },
    ]);
  });

  it('refuses short tokens, bad names, repeated names or tokens, without echoing the value', () => {
    for (const bad of [`alice:${'x'.repeat(23)}`, `Alice:${A}`, `alice ${A}`, `alice:${A},alice:${B}`, `alice:${A},bob:${A}`, `alice:${A},`, `:${A}`]) {
      let err: unknown;
      try {
        parse(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(ConfigError);
      expect((err as Error).message)
        .to.include('ADMIN_TOKENS')
        .and.not.include(A.slice(0, 20));
    }
  });

  it('maps a presented token to its operator; ADMIN_TOKEN is "default"; anything else is nobody', () => {
    const creds = {
      adminToken: 'the-admin-token-0123456789',
      operators: [
        { name: 'alice', token: A },
        { name: 'bob', token: B },
      ],
    };
    expect(operatorOf(creds, A)).to.equal('alice');
    expect(operatorOf(creds, B)).to.equal('bob');
    expect(operatorOf(creds, creds.adminToken)).to.equal('default');
    for (const wrong of [A + 'a', A.slice(1), '', 'alice', `alice:${A}`]) expect(operatorOf(creds, wrong), wrong).to.equal(undefined);
    expect(adminActor('alice')).to.equal('admin:alice');
    expect(adminActor(undefined)).to.equal('admin:default');
  });
});
