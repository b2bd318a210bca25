import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { slotTagOf } from '../../../src/portal/push-intake';

describe('portal/push-intake slotTagOf', () => {
  it('finds the hash tag of a replay key', () => {
    expect(slotTagOf('wxgate:push:replay:{d:7}:abc')).to.equal('{d:7}');
    expect(slotTagOf('wxgate:push:replay:abc')).to.equal('');
  });

  it('finds what /\\{[^{}]+\\}/ finds, on 20 000 random keys', () => {
    const alphabet = ['{', '}', 'a', ':', 'd', '7', '{}', '}{'];
    for (let i = 0; i < 20000; i++) {
      let key = '';
      for (let n = randomInt(0, 10); n > 0; n--) key += alphabet[randomInt(alphabet.length)];
      expect(slotTagOf(key), key).to.equal(/\{[^{}]+\}/.exec(key)?.[0] ?? '');
    }
  });
});
