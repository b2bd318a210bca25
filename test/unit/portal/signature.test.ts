import { createHash, randomBytes, randomInt } from 'node:crypto';
import { expect } from 'chai';
import { msgSignature, pushSignature, verifySignature } from '../../../src/protocol/signature';
import { SAMPLE } from './helpers';

const sha1 = (s: string): string => createHash('sha1').update(s, 'utf8').digest('hex');

describe('portal/signature', () => {
  describe('pushSignature', () => {
    it('matches a hand-sorted concatenation of the sample token, timestamp and nonce', () => {
      // Sorted by hand: "1409304348" < "pamtest" < "xxxxxx".
      expect(pushSignature(SAMPLE.token, SAMPLE.timestamp, SAMPLE.nonce)).to.equal(sha1('1409304348pamtestxxxxxx'));
    });

    it('matches values computed with printf | sha1sum', () => {
      // printf '%s' "1409304348pamtestxxxxxx" | sha1sum
      expect(pushSignature('pamtest', '1409304348', 'xxxxxx')).to.equal('76480565cbe296026c53aaacd1ad523a1ddba24f');
      // printf '%s' "1409304348abc123pamtest" | sha1sum  (the nonce sorts before the token)
      expect(pushSignature('pamtest', '1409304348', 'abc123')).to.equal('ddd75634e2463ced6a3e53864dcabd25f0d1fc7c');
    });

    it('does not depend on argument positions, only on the set of strings', () => {
      expect(pushSignature('a', 'b', 'c')).to.equal(pushSignature('c', 'a', 'b'));
      expect(pushSignature('a', 'b', 'c')).to.equal(sha1('abc'));
    });

    it('sorts by code unit, not by locale (upper case before lower case)', () => {
      expect(pushSignature('b', 'B', 'a')).to.equal(sha1('Bab'));
    });
  });

  describe('msgSignature', () => {
    it('matches the sample Encrypt value signed with printf | sha1sum', () => {
      // printf '%s' "1409304348${ENCRYPT}pamtestxxxxxx" | sha1sum
      expect(msgSignature(SAMPLE.token, SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt)).to.equal('82c962d39941aa48552f90ef55aa323dc620cc10');
    });

    it('matches a hand-sorted concatenation of four strings', () => {
      // "1409304348" < "jn1L..." < "pamtest" < "xxxxxx"
      expect(msgSignature(SAMPLE.token, SAMPLE.timestamp, SAMPLE.nonce, SAMPLE.encrypt)).to.equal(sha1(`1409304348${SAMPLE.encrypt}pamtestxxxxxx`));
    });

    it('differs from the plain signature', () => {
      expect(msgSignature('t', '1', 'n', 'E')).to.not.equal(pushSignature('t', '1', 'n'));
    });
  });

  it('equals sha1 of the code-unit-sorted join for every order of 3 and 4 random strings (the hand-written sort)', () => {
    const pick = () => randomBytes(randomInt(0, 4)).toString('base64').replace(/=/g, '') + ['', 'a', 'A', '1', '_'][randomInt(5)];
    const reference = (parts: string[]) =>
      createHash('sha1')
        .update([...parts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).join(''))
        .digest('hex');
    for (let i = 0; i < 3000; i++) {
      const [a, b, c, d] = [pick(), pick(), pick(), pick()];
      expect(pushSignature(a, b, c), JSON.stringify([a, b, c])).to.equal(reference([a, b, c]));
      expect(msgSignature(a, b, c, d), JSON.stringify([a, b, c, d])).to.equal(reference([a, b, c, d]));
    }
  });

  describe('verifySignature', () => {
    const good = '76480565cbe296026c53aaacd1ad523a1ddba24f';

    it('accepts the same signature', () => {
      expect(verifySignature(good, good)).to.equal(true);
    });

    it('rejects a wrong signature of the same length', () => {
      expect(verifySignature(good, `${good.slice(0, -1)}0`)).to.equal(false);
      expect(verifySignature(good, pushSignature('other-token', '1409304348', 'xxxxxx'))).to.equal(false);
    });

    it('rejects a signature of another length without throwing', () => {
      expect(verifySignature(good, good.slice(1))).to.equal(false);
      expect(verifySignature(good, `${good}0`)).to.equal(false);
      expect(verifySignature(good, '')).to.equal(false);
    });

    it('rejects a missing signature and never accepts empty against empty', () => {
      expect(verifySignature(good, undefined)).to.equal(false);
      expect(verifySignature('', '')).to.equal(false);
    });

    it('is case-sensitive (WeChat sends lower-case hex)', () => {
      expect(verifySignature(good, good.toUpperCase())).to.equal(false);
    });
  });
});
