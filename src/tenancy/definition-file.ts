import type { z } from 'zod';
import { urlProblem } from '../transport/address-policy';

/** A definition file (a merchant's, a platform's) that failed validation: every problem by field, never a value. */
export class DefinitionError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'DefinitionError';
  }
}

/**
 * Validates a definition file's content against its schema (secrets written as env:NAME are read by
 * the schema), then the top-level URL fields the gateway will call against the outbound address
 * policy. Throws DefinitionError naming each problem.
 */
export function validateDefinition<S extends z.ZodType>(schema: S, input: unknown, source: string, urlFields: readonly string[], opts: { allowPrivateUrls?: boolean } = {}): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success)
    throw new DefinitionError(
      source,
      r.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || 'file'}: ${i.message}`),
    );
  const data = r.data as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of urlFields) {
    const v = data[field];
    if (typeof v !== 'string') continue;
    const problem = urlProblem(v, { allowPrivateAddresses: opts.allowPrivateUrls === true });
    if (problem) problems.push(`${field}: ${problem}`);
  }
  if (problems.length) throw new DefinitionError(source, problems);
  return r.data;
}
