/**
 * Input handling shared by the users and mini-program routes: JSON bodies are refused unless they
 * are declared as JSON (415), parsed with a per-route size limit (413), and validated with a zod
 * schema whose first problem is named in a 400 INVALID_BODY. Error messages name fields, never
 * echo values (bodies carry login codes, encrypted data and phone numbers).
 */
import type { z } from 'zod';
import { AppError } from '../errors';
import type { GatewayContext, GatewayMiddleware } from './context';
import { bodyOf, jsonBody } from './json-body';

/** True when the request carries a body (chunked, or a Content-Length above 0). */
export function hasBody(ctx: GatewayContext): boolean {
  return ctx.get('transfer-encoding') !== '' || Number(ctx.get('content-length') || 0) > 0;
}

/** Requests with a body must declare application/json (or +json); then the body is parsed. */
export function jsonInput(limitBytes: number): GatewayMiddleware {
  const parse = jsonBody(limitBytes);
  return async (ctx, next) => {
    if (hasBody(ctx) && !ctx.is('application/json', 'application/*+json')) {
      throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (Content-Type: application/json)');
    }
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > limitBytes) {
      throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
    }
    try {
      // The parser gets a no-op `next`, so that only its own errors are handled here.
      await parse(ctx, async () => undefined);
    } catch (err) {
      throw bodyError(err);
    }
    await next();
  };
}

/** Maps a body parser failure to the client error it is; the body itself is never echoed. */
function bodyError(err: unknown): unknown {
  if (err instanceof SyntaxError) {
    // @hapi/bourne (inside co-body) refuses prototype-poisoning keys with a SyntaxError.
    if (/prototype/i.test(err.message)) return new AppError(400, 'INVALID_BODY', 'body: __proto__ and constructor.prototype keys are not allowed');
    return new AppError(400, 'MALFORMED_JSON', 'request body is not valid JSON (an object is expected)');
  }
  // raw-body / inflation errors carry a status (413 too large, 415 unknown encoding, 400 ...) and
  // are mapped by the error handler.
  if (typeof (err as { status?: unknown }).status === 'number') return err;
  // Anything else (e.g. a corrupt gzip stream) is still the client's body, not a server fault.
  return new AppError(400, 'BAD_REQUEST', 'the request body could not be read (corrupt Content-Encoding?)');
}

export interface IssueSummary {
  path: string;
  message: string;
}

/** One readable line per zod issue, e.g. `scene: too long (at most 32 characters)`. */
export function summarizeIssues(issues: readonly z.core.$ZodIssue[], root: string): IssueSummary[] {
  return issues.slice(0, 10).map((i) => {
    const path = i.path.length === 0 ? root : i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
    let message = i.message;
    if (i.code === 'invalid_type' && /received undefined$/.test(message)) message = 'is required';
    if (i.code === 'unrecognized_keys') message = `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return { path, message };
  });
}

/** Validates a value, or throws 400 `code` naming the first offending field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, code: string, root: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = summarizeIssues(r.error.issues, root);
  const first = issues[0] ?? { path: root, message: 'is invalid' };
  throw new AppError(400, code, `${first.path}: ${first.message}`, { details: { issues } });
}

/** The parsed JSON body, validated; an absent body counts as `{}` (so optional-only schemas pass). */
export function parseBody<S extends z.ZodType>(ctx: GatewayContext, schema: S): z.output<S> {
  const body = bodyOf(ctx);
  return validate(schema, body === undefined ? {} : body, 'INVALID_BODY', 'body');
}

/** The query string, validated (repeated parameters arrive as arrays and fail string schemas). */
export function parseQuery<S extends z.ZodType>(ctx: GatewayContext, schema: S): z.output<S> {
  return validate(schema, { ...ctx.query }, 'INVALID_QUERY', 'query');
}
