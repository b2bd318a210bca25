import Koa from 'koa';
import Router from '@koa/router';
import type { GatewayMiddleware, GatewayState } from '../http/context';
import type { Logger } from '../kernel/log';
import { errorHandler, type ErrorHandlerOptions } from '../http/error-handler';
import { requestLog } from '../http/request-log';
import { securityHeaders } from '../http/security-headers';
import { legacyPortalPath, resolveTenant, tenantFastPath, type FastRoute } from '../tenancy/tenant-middleware';
import type { TenantResolver } from '../tenancy/tenant-resolver';
import type { Metrics } from '../ops/metrics';

/**
 * Top-level path segments that belong to the gateway itself, not to a tenant: the first literal
 * segment of every system route, so a new system route is reserved without a list to keep.
 */
export function reservedPaths(systemRoutes: Router<GatewayState>[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const r of systemRoutes) {
    for (const layer of r.stack) {
      const first = typeof layer.path === 'string' ? /^\/([^/:(*{]+)/.exec(layer.path)?.[1] : undefined;
      if (first) out.add(first);
    }
  }
  return out;
}

export interface AppParts {
  log: Logger;
  /** Where the per-request lines go (defaults to `log`). */
  accessLog?: Logger;
  resolver: TenantResolver;
  metrics: Metrics;
  /** Gateway-level routes (/healthz, /admin, ...), matched before tenant resolution. */
  systemRoutes: Router<GatewayState>[];
  /** Routes under /:appid, which see a resolved, active tenant. */
  tenantRoutes: Router<GatewayState>[];
  /** Hot tenant routes (each also in tenantRoutes) answered without matching the routers. */
  fastRoutes?: FastRoute[];
  /** Counts requests for the operator console (runs inside the error handler, so it sees refusals). */
  activity?: GatewayMiddleware;
  /** Where requests that failed on an unavailable store are reported (instead of one log line each). */
  onStoreUnavailable?: ErrorHandlerOptions['onStoreUnavailable'];
}

/** Whether every system route starts with a literal segment (so none can match a tenant's path before its routes). */
function literalFirstSegments(systemRoutes: Router<GatewayState>[]): boolean {
  return systemRoutes.every((r) => r.stack.every((layer) => typeof layer.path === 'string' && /^\/[^/:(*{]+/.test(layer.path) && !/^\/wx[0-9a-f]{16}(\/|$)/.test(layer.path)));
}

/** Builds the Koa app; does no I/O and does not listen. */
export function buildApp(parts: AppParts): Koa<GatewayState> {
  const app = new Koa<GatewayState>();
  app.proxy = true;
  // Errors are answered by errorHandler; Koa's own handler would print them to stderr.
  app.silent = true;
  app.use(securityHeaders());
  app.use(requestLog(parts.log, parts.accessLog));
  app.use(errorHandler(parts.onStoreUnavailable ? { onStoreUnavailable: parts.onStoreUnavailable } : {}));
  app.use(parts.metrics.middleware());
  if (parts.activity) app.use(parts.activity);
  app.use(legacyPortalPath());
  if (parts.fastRoutes?.length) app.use(tenantFastPath(parts.resolver, parts.fastRoutes, literalFirstSegments(parts.systemRoutes)));
  const system = merged(parts.systemRoutes);
  app.use(system.routes()).use(system.allowedMethods());
  app.use(resolveTenant(parts.resolver, reservedPaths(parts.systemRoutes)));
  const tenant = merged(parts.tenantRoutes);
  app.use(tenant.routes()).use(tenant.allowedMethods());
  return app;
}

/** One router holding every feature's routes: a request is matched once, not once per feature. */
function merged(routers: Router<GatewayState>[]): Router<GatewayState> {
  const all = new Router<GatewayState>();
  for (const r of routers) all.use(r.routes());
  return all;
}
