import { expect } from 'chai';
import { createBoundedRegexTester, plainRegexTester, regexHazard } from '../../../src/portal/regex-guard';

describe('portal/regex-guard', () => {
  describe('regexHazard', () => {
    it('refuses nested unbounded quantifiers', () => {
      for (const p of ['(a+)+', '^(\\w+\\s?)*$', '(.*)*', '(?:a*)+x', '(a{2,})*', '((ab)+c)+', '(a+)*?', '(?<n>x+)+', '([a-z]+)+']) {
        expect(regexHazard(p), p).to.match(/nested unbounded/);
      }
    });

    it('refuses backreferences', () => {
      expect(regexHazard('(a)\\1')).to.match(/backreferences/);
      expect(regexHazard('(?<q>a)\\k<q>')).to.match(/backreferences/);
    });

    it('accepts ordinary keyword patterns', () => {
      for (const p of ['^(人工|客服)$', 'hello', '(ab)+', 'a+b+', '[(+)]+', '(a+)?', '(a{1,3})+', '\\d{6}', '(?:x)*', '^\\s*hi\\s*$', '[\\]+]+', '(?=a+)b', '.*a.*b']) {
        expect(regexHazard(p), p).to.equal(undefined);
      }
    });
  });

  describe('testers', () => {
    it('plain tester reports match and no-match', () => {
      expect(plainRegexTester(/^a/u, 'abc')).to.equal('match');
      expect(plainRegexTester(/^b/u, 'abc')).to.equal('no-match');
    });

    it('bounded tester gives the same answers for ordinary patterns', () => {
      const test = createBoundedRegexTester(50);
      expect(test(/^(人工|客服)$/u, '人工')).to.equal('match');
      expect(test(/^(人工|客服)$/u, '人工!')).to.equal('no-match');
    });

    it('bounded tester interrupts catastrophic backtracking', () => {
      const test = createBoundedRegexTester(10);
      const started = Date.now();
      expect(test(/^(a+)+$/u, `${'a'.repeat(40)}!`)).to.equal('timeout');
      expect(Date.now() - started).to.be.below(1000);
      // And stays usable afterwards.
      expect(test(/a/u, 'a')).to.equal('match');
    });

    it('refuses a nonsensical budget', () => {
      expect(() => createBoundedRegexTester(0)).to.throw(Error);
      expect(() => createBoundedRegexTester(Number.NaN)).to.throw(Error);
    });
  });
});
