import { timingSafeEqual, createHash } from 'node:crypto';
import { AppError } from '../kernel/errors';
import type { GatewayMiddleware } from '../http/context';

declare module '../http/context' {
  interface GatewayState {
    /** Set by the admin check: the operator's name (`default` for ADMIN_TOKEN), for the audit log. */
    operator?: string;
  }
}

/** Compares digests so the comparison is constant-time whatever the lengths. */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

export function bearerOf(header: string): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

/** A route for operators: `Authorization: Bearer <secret>`, compared in constant time. */
export function requireBearer(secret: string, name: string): GatewayMiddleware {
  return async (ctx, next) => {
    const given = bearerOf(ctx.get('authorization'));
    if (!given) throw new AppError(401, 'UNAUTHENTICATED', `missing Authorization: Bearer <${name}>`);
    if (!sameSecret(given, secret)) throw new AppError(403, 'FORBIDDEN', `invalid ${name}`);
    await next();
  };
}

/** The operators allowed on /admin: ADMIN_TOKEN (as `default`) and each ADMIN_TOKENS `name:token`. */
export interface AdminCredentials {
  adminToken: string;
  operators?: readonly { name: string; token: string }[];
}

/** The operator name ADMIN_TOKEN stands for in the audit log (`admin:default`). */
export const DEFAULT_OPERATOR = 'default';

/**
 * The operator a presented token belongs to, or undefined. Every configured token is compared, each
 * in constant time, and the loop never stops early: the answer's timing says nothing about which
 * token (or how much of one) matched.
 */
export function operatorOf(creds: AdminCredentials, presented: string): string | undefined {
  let found: string | undefined;
  for (const { name, token } of [{ name: DEFAULT_OPERATOR, token: creds.adminToken }, ...(creds.operators ?? [])]) {
    if (sameSecret(presented, token) && found === undefined) found = name;
  }
  return found;
}

/** `/admin` routes: a known operator's bearer token; sets `ctx.state.operator`. */
export function requireAdmin(creds: string | AdminCredentials): GatewayMiddleware {
  const c: AdminCredentials = typeof creds === 'string' ? { adminToken: creds } : creds;
  return async (ctx, next) => {
    const given = bearerOf(ctx.get('authorization'));
    if (!given) throw new AppError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <ADMIN_TOKEN or an ADMIN_TOKENS token>');
    const operator = operatorOf(c, given);
    if (operator === undefined) throw new AppError(403, 'FORBIDDEN', 'invalid admin token');
    ctx.state.operator = operator;
    await next();
  };
}

/** The audit actor of an operator of the admin API. */
export function adminActor(operator: string | undefined): string {
  return `admin:${operator ?? DEFAULT_OPERATOR}`;
}
