import { AppError } from '../kernel/errors';
import type { GatewayMiddleware } from '../http/context';
import type { TenantResolver } from './tenant-resolver';
import { APPID_PATTERN } from './tenant';

/**
 * Resolves the tenant of every request under /:appid before routing, so an unknown or disabled
 * appid is refused the same way whatever path follows it. `reserved` are the gateway's own
 * top-level paths (/healthz, /admin, ...), which are not tenants.
 */
export function resolveTenant(resolver: TenantResolver, reserved: ReadonlySet<string>): GatewayMiddleware {
  return async (ctx, next) => {
    const first = ctx.path.split('/')[1] ?? '';
    if (first === '') return next();
    // A gateway path that no system route answered (/admin, /healthz/portal, ...): never a tenant.
    if (reserved.has(first)) throw new AppError(404, 'NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
    if (!APPID_PATTERN.test(first)) throw new AppError(400, 'INVALID_APPID', 'appid must be "wx" followed by 16 lowercase hex digits');
    const tenant = await resolver.resolve(first);
    if (!tenant) throw new AppError(404, 'TENANT_NOT_FOUND', `no tenant ${first}`);
    // The request's logger picks the appid up from here when it is first used.
    ctx.state.tenant = tenant;
    if (tenant.status !== 'active') throw new AppError(403, 'TENANT_DISABLED', `tenant ${first} is disabled`);
    await next();
  };
}

/** Teams migrating from the Java backend keep their registered push URL /wx/portal/<appid>. */
export function legacyPortalPath(): GatewayMiddleware {
  return async (ctx, next) => {
    const m = /^\/wx\/portal\/([^/]+)\/?$/.exec(ctx.path);
    if (m) ctx.path = `/${m[1]}/portal`;
    await next();
  };
}
