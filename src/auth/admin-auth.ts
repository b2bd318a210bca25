import { timingSafeEqual, createHash } from 'node:crypto';
import { AppError } from '../kernel/errors';
import type { GatewayMiddleware } from '../http/context';

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

export function requireAdmin(adminToken: string): GatewayMiddleware {
  return requireBearer(adminToken, 'ADMIN_TOKEN');
}
