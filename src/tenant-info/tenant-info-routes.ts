import Router from '@koa/router';
import { type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { publicInfo } from '../tenancy/tenant';

export function tenantInfoRoutes(): Router<GatewayState> {
  const router = new Router<GatewayState>();
  router.get('/:appid', (ctx) => {
    ctx.body = publicInfo(tenantOf(ctx));
  });
  return router;
}
