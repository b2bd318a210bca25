/** Body parsing and argument errors of the admin API: bad input answers 400 `{error}`. */
import type { z } from 'zod';
import { AdminError, type SbxContext } from './http';

export function parse<T>(schema: z.ZodType<T>, ctx: SbxContext): T {
  if (ctx.state.bodyMalformed) throw new AdminError(400, 'body is not valid JSON');
  const r = schema.safeParse(ctx.state.body ?? {});
  if (!r.success) throw new AdminError(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

/** Runs `fn`, turning TypeErrors from the sandbox (bad arguments) into 400s. */
export function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TypeError) throw new AdminError(400, e.message);
    throw e;
  }
}

/** guarded for async sandbox calls. */
export async function guardedAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TypeError) throw new AdminError(400, e.message);
    throw e;
  }
}
