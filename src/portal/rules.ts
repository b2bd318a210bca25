/**
 * Auto-reply rules of a tenant file and how a push is matched against them.
 *
 * Rules are tried in order. A rule matches when every key of its `match` matches (AND; an empty
 * match is a catch-all). The first matching rule ends the search unless it says `continue: true`.
 * Among the matched rules the first `reply` wins (WeChat accepts one passive reply per push);
 * every matched rule's `customerMessage` is collected, in order.
 *
 * The field names are part of the tenant file format: do not rename them.
 */
import { z } from 'zod';
import { unaddressedCustomerMessage, type UnaddressedCustomerMessage } from '../wechat/customer-message';
import type { PushMessage } from './message';
import { createBoundedRegexTester, regexHazard, type RegexTester } from './regex-guard';

export const RULE_LIMITS = Object.freeze({
  maxRules: 200,
  /** Longest accepted `contentRegex` source. */
  maxPatternLength: 200,
  /** `contentRegex` is not tried on longer content (the rule does not match), to bound its cost. */
  maxRegexInput: 2048,
  /** Longest text in a reply, a customer message or a `content` match. */
  maxText: 2048,
});

/**
 * Flags for every `contentRegex`: `u` for code-point semantics (Chinese and emoji are single
 * characters) and stricter syntax errors at load time; no `g`/`y`, so `test` keeps no state.
 */
const REGEX_FLAGS = 'u';

const idText = (max: number) => z.string().min(1).max(max);
const text = z.string().min(1).max(RULE_LIMITS.maxText);

const contentRegex = z
  .string()
  .min(1)
  .max(RULE_LIMITS.maxPatternLength)
  .superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern, REGEX_FLAGS);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `does not compile: ${(err as Error).message}` });
      return;
    }
    const hazard = regexHazard(pattern);
    if (hazard) ctx.addIssue({ code: 'custom', message: hazard });
  });

export const matchSchema = z.strictObject({
  msgType: idText(32).optional(),
  event: idText(64).optional(),
  /** Exact, case-sensitive equality with the text message's Content. */
  content: text.optional(),
  /** JavaScript regex source (flag u), tested on Content. Anchor it (^...$) for whole-text matches. */
  contentRegex: contentRegex.optional(),
  /** The user's openid. */
  fromUser: idText(128).optional(),
});

/** A passive reply (the HTTP answer to the push). */
export const replySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), content: text }),
  z.strictObject({ type: z.literal('image'), mediaId: idText(256) }),
  z.strictObject({ type: z.literal('transfer_customer_service') }),
]);

/**
 * A customer-service message, without `touser`: the gateway always sends it to the pushing user, so
 * a rule cannot address anyone else.
 */
export const customerMessageSchema = unaddressedCustomerMessage;

export const ruleSchema = z.strictObject({
  match: matchSchema,
  reply: replySchema.optional(),
  customerMessage: customerMessageSchema.optional(),
  /**
   * Informational only: every accepted push is forwarded to the tenant's webhook when it has one,
   * whatever this says. Kept so existing tenant files stay valid and to document intent.
   */
  forward: z.boolean().optional(),
  /** Let later rules match too (they may add customer messages; the first reply still wins). */
  continue: z.boolean().optional(),
});

export const rulesSchema = z.array(ruleSchema).max(RULE_LIMITS.maxRules);

export type RuleMatch = z.output<typeof matchSchema>;
export type Reply = z.output<typeof replySchema>;
export type CustomerMessage = UnaddressedCustomerMessage;
export type Rule = z.output<typeof ruleSchema>;

/**
 * Validates rules outside a larger tenant schema. Throws a plain Error (tenant configuration, not
 * a client request) naming each failing path, e.g. `rules.1.match.contentRegex: does not compile`.
 * Inside a bigger zod schema, embed `rulesSchema` under the key `rules` to get the same paths.
 */
export function parseRules(input: unknown, path: string = 'rules'): Rule[] {
  const result = rulesSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${[path, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  throw new Error(`Invalid rules:\n${lines.join('\n')}`);
}

/** The parts of a push that rules look at. */
export type MatchableMessage = Pick<PushMessage, 'msgType' | 'event' | 'content' | 'fromUser'>;

export interface ActionPlan {
  reply?: Reply;
  customerMessages: CustomerMessage[];
  /** Indexes of the matched rules, in order (for logs and tests). */
  matched: number[];
  /** Indexes of rules whose regex ran out of time (treated as not matching); worth a warning log. */
  regexTimeouts: number[];
}

export interface PlanOptions {
  /** How regexes are run; default: a time-bounded tester (see regex-guard.ts). */
  regexTester?: RegexTester;
  /** Content longer than this never matches a `contentRegex`; default RULE_LIMITS.maxRegexInput. */
  maxRegexInput?: number;
}

/**
 * Compiled patterns, shared by all tenants (equal sources compile to equal regexes). Bounded so a
 * stream of edited tenant files cannot grow it forever; `null` remembers a pattern that did not
 * compile (rules that bypassed rulesSchema).
 */
const compiled = new Map<string, RegExp | null>();
const MAX_COMPILED = 1000;

function compile(pattern: string): RegExp | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, REGEX_FLAGS);
    } catch {
      re = null;
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

let defaultTester: RegexTester | undefined;

type MatchOutcome = 'match' | 'no-match' | 'timeout';

function matchRule(match: RuleMatch, msg: MatchableMessage, tester: RegexTester, maxInput: number): MatchOutcome {
  if (match.msgType !== undefined && match.msgType !== msg.msgType) return 'no-match';
  if (match.event !== undefined && match.event !== msg.event) return 'no-match';
  if (match.fromUser !== undefined && match.fromUser !== msg.fromUser) return 'no-match';
  if (match.content !== undefined && match.content !== msg.content) return 'no-match';
  if (match.contentRegex !== undefined) {
    // The regex runs last, after the cheap checks have had their chance to rule the push out.
    if (msg.content === undefined || msg.content.length > maxInput) return 'no-match';
    const re = compile(match.contentRegex);
    if (re === null) return 'no-match';
    return tester(re, msg.content);
  }
  return 'match';
}

/** Decides what to do with a push. Pure apart from the regex time budget. */
export function planActions(rules: readonly Rule[], msg: MatchableMessage, opts: PlanOptions = {}): ActionPlan {
  const tester = opts.regexTester ?? (defaultTester ??= createBoundedRegexTester());
  const maxInput = opts.maxRegexInput ?? RULE_LIMITS.maxRegexInput;
  const plan: ActionPlan = { customerMessages: [], matched: [], regexTimeouts: [] };
  for (const [index, rule] of rules.entries()) {
    const outcome = matchRule(rule.match, msg, tester, maxInput);
    if (outcome === 'timeout') plan.regexTimeouts.push(index);
    if (outcome !== 'match') continue;
    plan.matched.push(index);
    if (rule.reply && !plan.reply) plan.reply = rule.reply;
    if (rule.customerMessage) plan.customerMessages.push(rule.customerMessage);
    if (rule.continue !== true) break;
  }
  return plan;
}
