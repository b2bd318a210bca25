import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { queryValues } from '../../../src/http/query-values';

const KEYS = ['signature', 'timestamp', 'nonce', 'echostr', 'a'] as const;

/** What URLSearchParams reads: the first value of each wanted key, and the wanted keys given more than once. */
function reference(qs: string) {
  const p = new URLSearchParams(qs);
  const values: Record<string, string> = {};
  const repeated: string[] = [];
  for (const k of KEYS) {
    const all = p.getAll(k);
    if (all.length) values[k] = all[0]!;
    if (all.length > 1) repeated.push(k);
  }
  return { values, repeated };
}

/** queryValues' answer in reference's terms: it names one of the repeated keys, or none. */
function agrees(qs: string) {
  const got = queryValues(qs, KEYS);
  const want = reference(qs);
  expect({ ...got.values }, JSON.stringify(qs)).to.deep.equal(want.values);
  if (want.repeated.length) expect(want.repeated, JSON.stringify(qs)).to.include(got.repeated);
  else expect(got.repeated, JSON.stringify(qs)).to.equal(undefined);
}

describe('http/query-values', () => {
  it('reads a push query', () => {
    const r = queryValues('signature=abc&timestamp=1700000000&nonce=42&openid=o1', KEYS);
    expect({ ...r.values }).to.deep.equal({ signature: 'abc', timestamp: '1700000000', nonce: '42' });
    expect(r.repeated).to.equal(undefined);
  });

  it('reports a parameter given twice, keeping the first value', () => {
    const r = queryValues('nonce=1&signature=x&nonce=2', KEYS);
    expect(r.values.nonce).to.equal('1');
    expect(r.repeated).to.equal('nonce');
  });

  it('decodes escapes and "+" as URLSearchParams does, malformed escapes kept', () => {
    expect(queryValues('echostr=a%20b+c%zz', KEYS).values.echostr).to.equal('a b c%zz');
    expect(queryValues('%73ignature=s', KEYS).values.signature).to.equal('s');
  });

  it('takes empty parts, bare keys and extra "=" like URLSearchParams', () => {
    for (const qs of ['', '&', '&&a', 'a', 'a=', '=a', 'a==b', 'nonce=1=2&&a&', 'a&a=2']) agrees(qs);
  });

  it('agrees with URLSearchParams on 5 000 random query strings', () => {
    const alphabet = ['a', 'nonce', 'signature', 'timestamp', 'echostr', '=', '&', '&', '%', '%2', '%41', '+', 'x', '1', ' ', 'é', '?', '#'];
    for (let i = 0; i < 5000; i++) {
      let qs = '';
      for (let n = randomInt(0, 12); n > 0; n--) qs += alphabet[randomInt(alphabet.length)];
      agrees(qs);
    }
  });
});
