import Router from '@koa/router';
import type { GatewayState } from '../http/context';
import type { TenantRepository } from '../tenancy/tenant-repository';
import { requireAdmin } from '../auth/admin-auth';
import type { AuditLog } from '../audit/audit-log';
import { AppError } from '../kernel/errors';
import { APPID_PATTERN } from '../tenancy/tenant';

/** Read-only operator API; changes go through the tenants CLI so they are reviewed as files. */
export function adminRoutes(adminToken: string, repo: TenantRepository, audit: AuditLog): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/admin' });
  router.use(requireAdmin(adminToken));
  router.get('/tenants', async (ctx) => {
    ctx.body = { tenants: (await repo.list()).map((t) => repo.sections.mask(t)) };
  });
  // The audit log: every change made through the CLI, and the authorizations WeChat reported.
  router.get('/audit', async (ctx) => {
    const appid = ctx.query.appid;
    const limit = ctx.query.limit === undefined ? 50 : Number(ctx.query.limit);
    if (appid !== undefined && (typeof appid !== 'string' || !APPID_PATTERN.test(appid))) throw new AppError(400, 'INVALID_QUERY', 'appid must be "wx" followed by 16 lowercase hex digits');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AppError(400, 'INVALID_QUERY', 'limit takes 1 to 500');
    ctx.body = { entries: await audit.list({ ...(typeof appid === 'string' ? { appid } : {}), limit }) };
  });
  return router;
}
