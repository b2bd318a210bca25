/**
 * Bounding the cost of tenant-written regular expressions (rule `contentRegex`) run against
 * user-written text. V8's backtracking engine can take exponential time on nested quantifiers
 * (`(a+)+$`) and polynomial time on plain ones: measured on Node 20, `/.*a.*b/` against 2048
 * characters takes about 2.5 s and `/\s*\s*\s*$/` against 1024 spaces over a minute. Bounding
 * the input length is therefore not enough, and one bad rule would stall the event loop for every
 * tenant.
 *
 * Two layers:
 * - regexHazard() refuses at load time what is certainly dangerous (nested unbounded quantifiers,
 *   backreferences), so the operator gets an error instead of a slow gateway;
 * - createBoundedRegexTester() runs each test under a time budget (node:vm's watchdog interrupts a
 *   running regex). This is CPU-only, no I/O; it costs about 80 µs per test, fine for pushes.
 */
import { Script, createContext } from 'node:vm';

export type RegexOutcome = 'match' | 'no-match' | 'timeout';

/** Tests `re` against `input`; injectable so callers and tests can choose the guard. */
export type RegexTester = (re: RegExp, input: string) => RegexOutcome;

/** No guard at all: only for trusted patterns and tests. */
export const plainRegexTester: RegexTester = (re, input) => (re.test(input) ? 'match' : 'no-match');

/** Default time budget of one regex test. */
export const DEFAULT_REGEX_BUDGET_MS = 20;

interface TestSandbox {
  re?: RegExp;
  input?: string;
}

/**
 * A tester that gives up after `budgetMs` and reports 'timeout'. One vm context per tester; the
 * RegExp object itself comes from our realm, only its execution is timed.
 */
export function createBoundedRegexTester(budgetMs: number = DEFAULT_REGEX_BUDGET_MS): RegexTester {
  if (!(budgetMs > 0) || !Number.isFinite(budgetMs)) throw new Error('budgetMs must be a positive number');
  const sandbox: TestSandbox = {};
  const context = createContext(sandbox);
  const script = new Script('re.test(input)');
  const timeout = Math.max(1, Math.ceil(budgetMs));
  return (re, input) => {
    sandbox.re = re;
    sandbox.input = input;
    try {
      return script.runInContext(context, { timeout }) === true ? 'match' : 'no-match';
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
      throw err;
    } finally {
      sandbox.re = undefined;
      sandbox.input = undefined;
    }
  };
}

/**
 * Why `pattern` is refused, or undefined if it is acceptable. A small lexical analysis, not a full
 * parser (the pattern must also compile, which is checked separately):
 * - a backreference (`\1`, `\k<name>`) makes matching NP-hard and is never needed for keywords;
 * - a group with an unbounded quantifier (`*`, `+`, `{n,}`) inside, itself repeated without bound,
 *   is the classic exponential case (`(a+)+`, `(\w+\s?)*`, `(.*)*`).
 * Polynomial cases (`.*a.*b`) pass; the time budget bounds those.
 */
export function regexHazard(pattern: string): string | undefined {
  // One frame per open group: does it contain an unbounded quantifier?
  const stack: boolean[] = [false];
  let i = 0;

  // Reads a quantifier at position i, returning whether it is unbounded and where it ends.
  const quantifierAt = (pos: number): { unbounded: boolean; end: number } | undefined => {
    const c = pattern[pos];
    let end: number;
    let unbounded: boolean;
    if (c === '*' || c === '+') {
      unbounded = true;
      end = pos + 1;
    } else if (c === '?') {
      unbounded = false;
      end = pos + 1;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(pos));
      if (!m) return undefined;
      unbounded = m[2] !== undefined && m[3] === '';
      end = pos + m[0].length;
    } else {
      return undefined;
    }
    if (pattern[end] === '?') end++; // lazy variant: same cost in the worst case
    return { unbounded, end };
  };

  const markUnbounded = (): void => {
    stack[stack.length - 1] = true;
  };

  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== undefined && next >= '1' && next <= '9') return 'backreferences are not allowed';
      if (next === 'k' && pattern[i + 2] === '<') return 'backreferences are not allowed';
      i += 2;
    } else if (c === '[') {
      // Skip the class; quantifiers inside it are literal characters.
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      stack.push(false);
      i++;
      if (pattern[i] === '?') i++; // (?: (?= (?! (?<name> (?<= : the '?' is not a quantifier
      continue;
    } else if (c === ')') {
      const innerUnbounded = stack.length > 1 ? (stack.pop() as boolean) : false;
      i++;
      const q = quantifierAt(i);
      if (q) {
        if (q.unbounded && innerUnbounded) return 'nested unbounded quantifiers (e.g. (a+)+) are not allowed';
        if (q.unbounded || innerUnbounded) markUnbounded();
        i = q.end;
      } else if (innerUnbounded) {
        markUnbounded();
      }
      continue;
    } else {
      i++;
    }
    // A quantifier right after an atom (character, escape or class).
    const q = quantifierAt(i);
    if (q) {
      if (q.unbounded) markUnbounded();
      i = q.end;
    }
  }
  return undefined;
}
