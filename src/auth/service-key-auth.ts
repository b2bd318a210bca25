import { AppError } from '../kernel/errors';
import { type GatewayContext, type GatewayMiddleware } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { bearerOf } from './admin-auth';
import type { ServiceKeys } from './service-keys';

/** Routes for a tenant's own backend services: `Authorization: Bearer <service key>`. */
export function requireServiceKey(keys: ServiceKeys): GatewayMiddleware {
  return async (ctx, next) => {
    const presented = bearerOf(ctx.get('authorization'));
    if (!presented) throw new AppError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <service key>');
    await authenticateServiceKey(ctx, keys, presented);
    await next();
  };
}

/** Checks a presented service key against the request's tenant and records the principal. */
export async function authenticateServiceKey(ctx: GatewayContext, keys: ServiceKeys, presented: string): Promise<void> {
  const keyId = await keys.verify(tenantOf(ctx).appid, presented);
  if (!keyId) throw new AppError(401, 'INVALID_API_KEY', 'the service key is unknown, revoked or belongs to another tenant');
  ctx.state.principal = { kind: 'service', keyId };
}
