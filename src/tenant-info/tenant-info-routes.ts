import Router from '@koa/router';
import { tenantOf, type GatewayState } from '../http/context';
import { publicInfo } from '../tenancy/tenant';

export function tenantRoutes(): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('/:appid', (ctx) => {
    ctx.body = publicInfo(tenantOf(ctx));
  });
  return router;
}
