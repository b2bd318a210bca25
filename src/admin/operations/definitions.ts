import { AppError } from '../../kernel/errors';
import { DefinitionError } from '../../tenancy/definition-file';
import { TenantFileError, type ParseOptions, type TenantSections } from '../../tenancy/tenant-sections';
import type { TenantDefinition } from '../../tenancy/tenant';
import { parseMerchantDefinition, type Merchant } from '../../merchants/merchant';

/** One definition to validate, and where it came from (`tenants/a.json[2]`, `body.tenants[0]`). */
export interface DefinitionEntry {
  value: unknown;
  source: string;
}

/** One problem of a definition: the entry, the field when there is one, and what is wrong (never a value). */
export interface DefinitionProblem {
  source: string;
  path?: string;
  message: string;
}

/** How one kind of definition (tenant, merchant) is validated. */
export interface DefinitionKind<T> {
  /** The identity field, for duplicate detection: "appid", "mchid". */
  keyName: string;
  keyOf(d: T): string;
  parse(entry: unknown, source: string): T;
  /** The field problems of a validation error this kind throws, or undefined for any other error. */
  problemsOf(err: unknown): DefinitionProblem[] | undefined;
}

/**
 * Validates every entry before anything is written (the CLI's files and the admin API's bodies go
 * through this one function): one bad entry, or one identity given twice, means no change at all,
 * answered as 400 INVALID_DEFINITION with every problem in `details.problems`. `earlier` carries
 * problems found before (files that could not be read).
 */
export function validateDefinitions<T>(entries: readonly DefinitionEntry[], kind: DefinitionKind<T>, earlier: readonly DefinitionProblem[] = []): T[] {
  const defs: T[] = [];
  const problems: DefinitionProblem[] = [...earlier];
  const seen = new Set<string>();
  for (const { value, source } of entries) {
    let def: T;
    try {
      def = kind.parse(value, source);
    } catch (err) {
      const p = kind.problemsOf(err);
      if (!p) throw err;
      problems.push(...p);
      continue;
    }
    const key = kind.keyOf(def);
    if (seen.has(key)) problems.push({ source, message: `${kind.keyName} ${key} is defined more than once` });
    seen.add(key);
    defs.push(def);
  }
  if (problems.length) {
    const first = problems[0]!;
    throw new AppError(400, 'INVALID_DEFINITION', `nothing was written: ${problems.length} problem(s), the first: ${first.source}: ${first.path ? `${first.path}: ` : ''}${first.message}`, {
      details: { problems },
    });
  }
  return defs;
}

export function tenantKind(sections: TenantSections, opts: ParseOptions): DefinitionKind<TenantDefinition> {
  return {
    keyName: 'appid',
    keyOf: (d) => d.appid,
    parse: (entry, source) => sections.parse(entry, source, opts),
    problemsOf: (err) => (err instanceof TenantFileError ? err.fields.map((f) => ({ source: err.source, path: f.path, message: f.message })) : undefined),
  };
}

export function merchantKind(opts: { allowPrivateUrls?: boolean }): DefinitionKind<Merchant> {
  return {
    keyName: 'mchid',
    keyOf: (m) => m.mchid,
    parse: (entry, source) => parseMerchantDefinition(entry, source, opts),
    problemsOf: (err) => (err instanceof DefinitionError ? err.problems.map((line) => splitProblem(err.source, line)) : undefined),
  };
}

/** `"payBase: not https"` -> field and message. */
function splitProblem(source: string, line: string): DefinitionProblem {
  const i = line.indexOf(': ');
  return i > 0 ? { source, path: line.slice(0, i), message: line.slice(i + 2) } : { source, message: line };
}

/** The problems of an INVALID_DEFINITION error, for the CLI to print one per line. */
export function definitionProblemsOf(err: AppError): DefinitionProblem[] {
  const p = err.details?.problems;
  return Array.isArray(p) ? (p as DefinitionProblem[]) : [];
}

/**
 * An admin API body as definition entries: one definition, or `{<plural>: [...]}` for many (an
 * object holding only that array).
 */
export function bodyEntries(body: unknown, plural: string): DefinitionEntry[] {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === plural) {
      const list = o[plural];
      if (!Array.isArray(list) || list.length === 0) throw new AppError(400, 'INVALID_BODY', `body.${plural}: expected a non-empty array of definitions`);
      return list.map((value, i) => ({ value, source: `body.${plural}[${i}]` }));
    }
    return [{ value: body, source: 'body' }];
  }
  throw new AppError(400, 'INVALID_BODY', `body: expected one definition (an object) or {"${plural}": [...]}`);
}
