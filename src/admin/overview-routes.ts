import Router from '@koa/router';
import type { GatewayMiddleware, GatewayState } from '../http/context';
import { parseQuery } from '../http/http-input';
import { overviewQuery, tenantOverview, type OverviewDeps } from './overview';

/** `GET /admin/overview`: every tenant at a glance, for the operator console (behind the admin guard). */
export function overviewRoutes(guard: GatewayMiddleware, deps: OverviewDeps): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/admin' });
  router.get('/overview', guard, async (ctx) => {
    ctx.body = await tenantOverview(deps, parseQuery(ctx, overviewQuery));
  });
  return router;
}
