import Router from '@koa/router';
import type { GatewayState } from '../http/context';
import type { TenantRepository } from '../tenancy/tenant-repository';
import { requireAdmin } from '../auth/admin-auth';

/** Read-only operator API; changes go through the tenants CLI so they are reviewed as files. */
export function adminRoutes(adminToken: string, repo: TenantRepository): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/admin' });
  router.use(requireAdmin(adminToken));
  router.get('/tenants', async (ctx) => {
    ctx.body = { tenants: (await repo.list()).map((t) => repo.sections.mask(t)) };
  });
  return router;
}
