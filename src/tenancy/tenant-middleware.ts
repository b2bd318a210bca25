import { AppError } from '../kernel/errors';
import type { GatewayContext, GatewayMiddleware } from '../http/context';
import type { TenantResolver } from './tenant-resolver';
import { APPID_PATTERN, type Tenant } from './tenant';

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
    await enterTenant(ctx, resolver, first);
    await next();
  };
}

/** A tenant route `/:appid/<segment>` for one method, answered directly once the tenant is resolved. */
export interface FastRoute {
  method: 'POST';
  /** The path's one segment after the appid (`portal` for `/:appid/portal`). */
  segment: string;
  /** The handler the route's router runs for it (it finds the tenant on ctx.state). */
  handle: (ctx: GatewayContext) => Promise<void>;
}

/**
 * Puts the tenant of `appid` on ctx.state, or refuses the request: an unknown appid, a disabled
 * tenant. Synchronous when the tenant is in memory (nearly every request): no promise to wait on.
 */
function enterTenant(ctx: GatewayContext, resolver: TenantResolver, appid: string): Promise<void> | undefined {
  const hit = resolver.cached(appid);
  if (hit !== undefined) return admit(ctx, appid, hit);
  return resolver.resolve(appid).then((tenant) => admit(ctx, appid, tenant));
}

function admit(ctx: GatewayContext, appid: string, tenant: Tenant | null): undefined {
  if (!tenant) throw new AppError(404, 'TENANT_NOT_FOUND', `no tenant ${appid}`);
  // The request's logger picks the appid up from here when it is first used.
  ctx.state.tenant = tenant;
  if (tenant.status !== 'active') throw new AppError(403, 'TENANT_DISABLED', `tenant ${appid} is disabled`);
  return undefined;
}

/** `/wx0123456789abcdef/<segment>`: the appid and the segment. */
const TENANT_ROUTE = /^\/(wx[0-9a-f]{16})\/([a-z]+)$/;

/**
 * The fast path of hot tenant routes (a push is one POST to /:appid/portal): after the same tenant
 * resolution as resolveTenant, the route's handler runs directly, without the system routes, the
 * tenant resolution middleware and the tenant routers being matched in turn. Everything around it
 * (security headers, request id, access log, error mapping, metrics, activity counters) still runs.
 * `shadowFree` says that no system route can match such a path (each has a literal first segment
 * that is not an appid); when false, or for any other request, this passes the request on.
 */
export function tenantFastPath(resolver: TenantResolver, routes: readonly FastRoute[], shadowFree: boolean): GatewayMiddleware {
  const handlers = new Map(routes.map((r) => [`${r.method} ${r.segment}`, r]));
  return (ctx, next) => {
    const m = shadowFree && handlers.size ? TENANT_ROUTE.exec(ctx.path) : null;
    const route = m ? handlers.get(`${ctx.method} ${m[2] as string}`) : undefined;
    if (!m || !route) return next();
    const appid = m[1] as string;
    const run = () => {
      // What the router would set once the tenant is in: the metrics' route label, the :appid parameter.
      (ctx as unknown as { _matchedRoute: string })._matchedRoute = `/:appid/${route.segment}`;
      ctx.params = { appid };
      return route.handle(ctx);
    };
    // A thrown refusal reaches the error handler either way: koa-compose turns it into a rejection.
    return enterTenant(ctx, resolver, appid)?.then(run) ?? run();
  };
}

/** Teams migrating from the Java backend keep their registered push URL /wx/portal/<appid>. */
export function legacyPortalPath(): GatewayMiddleware {
  return (ctx, next) => {
    const m = ctx.path.startsWith('/wx/portal/') ? /^\/wx\/portal\/([^/]+)\/?$/.exec(ctx.path) : null;
    if (m) ctx.path = `/${m[1]}/portal`;
    return next();
  };
}
