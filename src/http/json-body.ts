import bodyParser from 'koa-bodyparser';
import type { GatewayMiddleware } from './context';

/**
 * JSON body parsing for API routes only. It is applied per route, never globally, because the push
 * portal must read the raw body itself (signatures are computed over it).
 */
export function jsonBody(limitBytes = 64 * 1024): GatewayMiddleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${limitBytes}b`, strict: true });
  return (ctx, next) => parse(ctx, next) as Promise<void>;
}

/** The parsed body as an unknown value, for schema validation. */
export function bodyOf(ctx: { request: { body?: unknown } }): unknown {
  return ctx.request.body;
}
