/**
 * Input handling for every JSON API route: JSON bodies are refused unless they
 * are declared as JSON (415), parsed with a per-route size limit (413), and validated with a zod
 * schema whose first problem is named in a 400 INVALID_BODY. Error messages name fields, never
 * echo values (bodies carry login codes, encrypted data and phone numbers).
 */
import bodyParser from 'koa-bodyparser';
import type { z } from 'zod';
import { AppError } from '../kernel/errors';
import type { GatewayContext, GatewayMiddleware } from './context';
import { toAppError } from './error-handler';
import { assertDeclaredLength } from './raw-body';
import type { ErrorCode } from '../kernel/error-catalogue';

/** True when the request carries a body (chunked, or a Content-Length above 0). */
export function hasBody(ctx: GatewayContext): boolean {
  return ctx.get('transfer-encoding') !== '' || Number(ctx.get('content-length') || 0) > 0;
}

/** Requests with a body must declare application/json (or +json); then the body is parsed. */
export function jsonInput(limitBytes: number): GatewayMiddleware {
  // Parsing is per route, never global: the push portal must read the raw body itself (its
  // signature is computed over it).
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${limitBytes}b`, strict: true });
  return async (ctx, next) => {
    if (hasBody(ctx) && !ctx.is('application/json', 'application/*+json')) {
      throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (Content-Type: application/json)');
    }
    assertDeclaredLength(ctx, limitBytes);
    try {
      // The parser gets a no-op `next`, so that only its own errors are handled here.
      await parse(ctx, async () => undefined);
    } catch (err) {
      throw bodyError(err);
    }
    await next();
  };
}

/** A body parser failure is the client's body, never a server fault (the body is never echoed). */
function bodyError(err: unknown): AppError {
  const e = toAppError(err);
  return e.status < 500 ? e : new AppError(400, 'BAD_REQUEST', 'the request body could not be read (corrupt Content-Encoding?)');
}

export interface IssueSummary {
  path: string;
  message: string;
}

/** One readable line per zod issue, e.g. `scene: too long (at most 32 characters)`. */
export function summarizeIssues(issues: readonly z.core.$ZodIssue[], root: string): IssueSummary[] {
  return issues.slice(0, 10).map((i) => {
    const path =
      i.path.length === 0
        ? root
        : i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
            .join('.')
            .replace(/\.\[/g, '[');
    let message = i.message;
    if (i.code === 'invalid_type' && /received undefined$/.test(message)) message = 'is required';
    if (i.code === 'unrecognized_keys') message = `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return { path, message };
  });
}

/** Validates a value, or throws 400 `code` naming the first offending field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, code: ErrorCode, root: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = summarizeIssues(r.error.issues, root);
  const first = issues[0] ?? { path: root, message: 'is invalid' };
  throw new AppError(400, code, `${first.path}: ${first.message}`, { details: { issues } });
}

/** The parsed JSON body, validated; an absent body counts as `{}` (so optional-only schemas pass). */
export function parseBody<S extends z.ZodType>(ctx: GatewayContext, schema: S): z.output<S> {
  const body = (ctx.request as { body?: unknown }).body;
  return validate(schema, body === undefined ? {} : body, 'INVALID_BODY', 'body');
}

/** The query string, validated (repeated parameters arrive as arrays and fail string schemas). */
export function parseQuery<S extends z.ZodType>(ctx: GatewayContext, schema: S): z.output<S> {
  return validate(schema, { ...ctx.query }, 'INVALID_QUERY', 'query');
}
