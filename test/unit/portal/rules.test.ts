import { expect } from 'chai';
import { z } from 'zod';
import { plainRegexTester, createBoundedRegexTester } from '../../../src/portal/regex-guard';
import { RULE_LIMITS, parseRules, planActions, rulesSchema, type MatchableMessage, type Rule } from '../../../src/portal/rules';

/** The example from the tenant file documentation, verbatim. */
const EXAMPLE = JSON.parse(`{
  "rules": [
    { "match": { "msgType": "text", "content": "hello" }, "reply": { "type": "text", "content": "hi there" } },
    { "match": { "msgType": "text", "contentRegex": "^(人工|客服)$" }, "reply": { "type": "transfer_customer_service" } },
    { "match": { "event": "user_enter_tempsession" }, "customerMessage": { "msgtype": "text", "text": { "content": "Welcome" } }, "continue": true }
  ]
}`) as { rules: unknown };

const tenantSchema = z.object({ rules: rulesSchema });

const text = (content: string, fromUser = 'oUser1'): MatchableMessage => ({ msgType: 'text', content, fromUser });
const event = (name: string): MatchableMessage => ({ msgType: 'event', event: name, fromUser: 'oUser1' });

/** Paths of the issues zod reports for a tenant file with these rules. */
function issuePaths(rules: unknown): string[] {
  const result = tenantSchema.safeParse({ rules });
  expect(result.success, 'expected a validation error').to.equal(false);
  return result.error ? result.error.issues.map((i) => i.path.join('.')) : [];
}

describe('portal/rules', () => {
  describe('rulesSchema', () => {
    it('accepts the documented example', () => {
      const parsed = tenantSchema.parse(EXAMPLE);
      expect(parsed.rules).to.have.length(3);
      expect(parseRules(EXAMPLE.rules)).to.deep.equal(parsed.rules);
    });

    it('accepts every reply and customer message kind', () => {
      const rules = [
        { match: {}, reply: { type: 'image', mediaId: 'MEDIA' }, forward: false },
        { match: {}, customerMessage: { msgtype: 'image', image: { media_id: 'M' } } },
        { match: {}, customerMessage: { msgtype: 'link', link: { title: 'T', description: '', url: 'https://e.com/a', thumb_url: 'https://e.com/t.png' } } },
        { match: {}, customerMessage: { msgtype: 'miniprogrampage', miniprogrampage: { title: 'T', pagepath: 'pages/index', thumb_media_id: 'M' } } },
      ];
      expect(parseRules(rules)).to.have.length(4);
    });

    it('names the failing path of a regex that does not compile', () => {
      const rules = [{ match: { content: 'ok' } }, { match: { contentRegex: '(unclosed' } }];
      expect(issuePaths(rules)).to.deep.equal(['rules.1.match.contentRegex']);
      expect(() => parseRules(rules)).to.throw(Error, /rules\.1\.match\.contentRegex: does not compile/);
    });

    it('refuses overlong patterns, nested quantifiers and backreferences at load time', () => {
      const long = 'a'.repeat(RULE_LIMITS.maxPatternLength + 1);
      expect(issuePaths([{ match: { contentRegex: long } }])).to.deep.equal(['rules.0.match.contentRegex']);
      expect(() => parseRules([{ match: { contentRegex: 'a'.repeat(RULE_LIMITS.maxPatternLength) } }])).to.not.throw();
      expect(() => parseRules([{ match: { contentRegex: '^(a+)+$' } }])).to.throw(/rules\.0\.match\.contentRegex: nested unbounded/);
      expect(() => parseRules([{ match: { contentRegex: '(a)\\1' } }])).to.throw(/rules\.0\.match\.contentRegex: backreferences/);
    });

    it('refuses unknown keys (typos), bad reply types and a touser in customer messages', () => {
      expect(issuePaths([{ match: { contentRegx: 'x' } }])).to.deep.equal(['rules.0.match']);
      expect(issuePaths([{ match: {}, replay: { type: 'text', content: 'x' } }])).to.deep.equal(['rules.0']);
      expect(issuePaths([{ match: {}, reply: { type: 'music' } }])).to.deep.equal(['rules.0.reply.type']);
      expect(issuePaths([{ match: {}, reply: { type: 'text', content: '' } }])).to.deep.equal(['rules.0.reply.content']);
      expect(issuePaths([{ match: {}, customerMessage: { touser: 'other', msgtype: 'text', text: { content: 'x' } } }])).to.deep.equal(['rules.0.customerMessage']);
      expect(issuePaths([{ match: {}, customerMessage: { msgtype: 'link', link: { title: 'T', description: '', url: 'javascript:alert(1)', thumb_url: 'https://e/t' } } }])).to.deep.equal([
        'rules.0.customerMessage.link.url',
      ]);
      expect(issuePaths([{ match: {}, continue: 'yes' }])).to.deep.equal(['rules.0.continue']);
    });

    it('bounds the number of rules', () => {
      const many = Array.from({ length: RULE_LIMITS.maxRules + 1 }, () => ({ match: {} }));
      expect(issuePaths(many)).to.deep.equal(['rules']);
    });
  });

  describe('planActions', () => {
    const rules: Rule[] = parseRules(EXAMPLE.rules);

    it('matches exact content', () => {
      expect(planActions(rules, text('hello'))).to.deep.equal({
        reply: { type: 'text', content: 'hi there' },
        customerMessages: [],
        matched: [0],
        regexTimeouts: [],
      });
      expect(planActions(rules, text('hello ')).matched).to.deep.equal([]);
      expect(planActions(rules, text('Hello')).matched).to.deep.equal([]);
    });

    it('matches a regex on content', () => {
      expect(planActions(rules, text('人工')).reply).to.deep.equal({ type: 'transfer_customer_service' });
      expect(planActions(rules, text('客服')).matched).to.deep.equal([1]);
      expect(planActions(rules, text('找人工')).matched).to.deep.equal([]);
    });

    it('matches events and collects customer messages', () => {
      expect(planActions(rules, event('user_enter_tempsession'))).to.deep.equal({
        customerMessages: [{ msgtype: 'text', text: { content: 'Welcome' } }],
        matched: [2],
        regexTimeouts: [],
      });
    });

    it('requires every given key to match (AND)', () => {
      const r = parseRules([{ match: { msgType: 'text', content: 'vip', fromUser: 'oBoss' }, reply: { type: 'text', content: 'yes boss' } }]);
      expect(planActions(r, text('vip', 'oBoss')).matched).to.deep.equal([0]);
      expect(planActions(r, text('vip', 'oOther')).matched).to.deep.equal([]);
      expect(planActions(r, { msgType: 'image', fromUser: 'oBoss' }).matched).to.deep.equal([]);
    });

    it('stops at the first match unless it says continue', () => {
      const r = parseRules([
        { match: { msgType: 'text' }, reply: { type: 'text', content: 'first' } },
        { match: { msgType: 'text' }, reply: { type: 'text', content: 'second' } },
      ]);
      expect(planActions(r, text('x'))).to.deep.include({ reply: { type: 'text', content: 'first' }, matched: [0] });
    });

    it('with continue: later rules add customer messages, the first reply wins', () => {
      const r = parseRules([
        { match: { msgType: 'text' }, customerMessage: { msgtype: 'text', text: { content: 'logged' } }, continue: true },
        { match: { msgType: 'image' }, reply: { type: 'text', content: 'not for text' } },
        { match: { contentRegex: 'price' }, reply: { type: 'text', content: 'price list' }, customerMessage: { msgtype: 'text', text: { content: 'a' } }, continue: true },
        { match: {}, reply: { type: 'text', content: 'fallback' }, customerMessage: { msgtype: 'text', text: { content: 'b' } } },
        { match: {}, customerMessage: { msgtype: 'text', text: { content: 'never' } } },
      ]);
      expect(planActions(r, text('what price?'))).to.deep.equal({
        reply: { type: 'text', content: 'price list' },
        customerMessages: [
          { msgtype: 'text', text: { content: 'logged' } },
          { msgtype: 'text', text: { content: 'a' } },
          { msgtype: 'text', text: { content: 'b' } },
        ],
        matched: [0, 2, 3],
        regexTimeouts: [],
      });
      // Without "price" rule 2 does not match; the catch-all replies and stops.
      expect(planActions(r, text('hello'))).to.deep.include({ reply: { type: 'text', content: 'fallback' }, matched: [0, 3] });
    });

    it('an empty match is a catch-all; no rules means nothing to do', () => {
      expect(planActions(parseRules([{ match: {} }]), event('anything')).matched).to.deep.equal([0]);
      expect(planActions([], text('x'))).to.deep.equal({ customerMessages: [], matched: [], regexTimeouts: [] });
    });

    it('a regex rule never matches a push without content', () => {
      const r = parseRules([{ match: { contentRegex: '.*' } }]);
      expect(planActions(r, event('user_enter_tempsession')).matched).to.deep.equal([]);
      expect(planActions(r, text('')).matched).to.deep.equal([0]);
    });

    it('does not try a regex on content beyond the length bound', () => {
      const r = parseRules([{ match: { contentRegex: 'a' } }]);
      expect(planActions(r, text('a'.repeat(RULE_LIMITS.maxRegexInput))).matched).to.deep.equal([0]);
      expect(planActions(r, text('a'.repeat(RULE_LIMITS.maxRegexInput + 1))).matched).to.deep.equal([]);
      expect(planActions(r, text('aaaa'), { maxRegexInput: 3 }).matched).to.deep.equal([]);
      // Exact content is not bound: it costs one comparison.
      const exact = 'a'.repeat(RULE_LIMITS.maxText);
      expect(planActions(parseRules([{ match: { content: exact } }]), text(exact)).matched).to.deep.equal([0]);
    });

    it('a regex that runs out of time does not match and is reported', () => {
      // Polynomial, so it passes the load-time check: minutes on 2000 spaces without a budget.
      const r = parseRules([
        { match: { contentRegex: '\\s*\\s*\\s*$' }, reply: { type: 'text', content: 'slow' } },
        { match: {}, reply: { type: 'text', content: 'fallback' } },
      ]);
      const started = Date.now();
      const plan = planActions(r, text(`${' '.repeat(2000)}x`), { regexTester: createBoundedRegexTester(5) });
      expect(Date.now() - started).to.be.below(1000);
      expect(plan).to.deep.equal({ reply: { type: 'text', content: 'fallback' }, customerMessages: [], matched: [1], regexTimeouts: [0] });
    });

    it('uses the injected tester', () => {
      const seen: string[] = [];
      const r = parseRules([{ match: { contentRegex: '^x' } }]);
      planActions(r, text('xyz'), {
        regexTester: (re, input) => {
          seen.push(`${re.source}/${re.flags} ${input}`);
          return plainRegexTester(re, input);
        },
      });
      expect(seen).to.deep.equal(['^x/u xyz']);
    });

    it('matches astral characters as single characters (flag u)', () => {
      const r = parseRules([{ match: { contentRegex: '^.$' } }]);
      expect(planActions(r, text('😀')).matched).to.deep.equal([0]);
    });
  });
});
