import Router from '@koa/router';
import { z } from 'zod';
import type { GatewayContext, GatewayState } from '../http/context';
import { jsonInput, parseBody, parseQuery } from '../http/http-input';
import { adminActor, requireAdmin, type AdminCredentials } from '../auth/admin-auth';
import type { AuditLog } from '../audit/audit-log';
import { AppError } from '../kernel/errors';
import { APPID_PATTERN } from '../tenancy/tenant';
import type { AdminOperations } from './operations/admin-operations';
import { bodyEntries, merchantKind, tenantKind, validateDefinitions } from './operations/definitions';

/**
 * The operator API under /admin (README "Admin API"): the same operations as the tenants CLI
 * (src/admin/operations), on behalf of the operator whose token was presented (`admin:<name>` in
 * the audit log). Every answer is JSON; tenants and merchants are always masked.
 */
export interface AdminRouteDeps {
  credentials: AdminCredentials;
  ops: AdminOperations;
  audit: AuditLog;
  /** ALLOW_PRIVATE_URLS: definitions are validated exactly as the CLI validates files. */
  allowPrivateUrls: boolean;
}

/** Bodies of many definitions (up to a few thousand tenants); every other admin body is small. */
export const ADMIN_APPLY_MAX_BYTES = 1024 * 1024;
export const ADMIN_BODY_MAX_BYTES = 16 * 1024;

const count = (max: number) => z.string().regex(/^[1-9]\d{0,3}$/, `a whole number from 1 to ${max}`);

export const tenantsQuery = z.object({
  limit: count(200).optional().meta({ description: 'page size, 1 to 200 (default 50)' }),
  cursor: z.string().max(100).optional().meta({ description: 'the `nextCursor` of the previous page' }),
  q: z.string().min(1).max(100).optional().meta({ description: 'a substring of the appid, or of the name (any case)' }),
  status: z.enum(['active', 'disabled']).optional(),
});

export const auditQuery = z.object({
  appid: z.string().regex(APPID_PATTERN, 'expected "wx" followed by 16 lowercase hex digits').optional(),
  limit: count(500).optional().meta({ description: '1 to 500 (default 50)' }),
});

export const deadQuery = z.object({ limit: count(1000).optional().meta({ description: '1 to 1000 (default 50)' }) });

export const forceQuery = z.object({ force: z.enum(['true', 'false']).optional().meta({ description: 'remove even while tenants name it' }) });

/** A definition as in a tenant (or merchant) file; validated field by field by the same code as the CLI's files. */
const definition = z.record(z.string(), z.unknown()).meta({ description: 'one definition, exactly as in a definition file' });

export const applyTenantsBody = z.union([definition, z.object({ tenants: z.array(definition).min(1) }).strict()]);
export const applyMerchantsBody = z.union([definition, z.object({ merchants: z.array(definition).min(1) }).strict()]);

/** No body, or `{}`: actions whose path says everything. */
export const emptyBody = z.object({}).strict();

export const createKeyBody = z.object({ name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters') }).strict();

/** Dead-letter ids are Redis stream ids; without `ids`, every dead letter is redelivered. */
export const redeliverBody = z
  .object({
    ids: z
      .array(z.string().regex(/^\d{1,15}-\d{1,10}$/, 'expected a dead-letter id like 1700000000000-0'))
      .min(1)
      .max(1000)
      .optional(),
  })
  .strict();

function countOf(v: string | undefined, dflt: number, max: number, name: string): number {
  const n = v === undefined ? dflt : Number(v);
  if (n > max) throw new AppError(400, 'INVALID_QUERY', `query.${name}: a whole number from 1 to ${max}`);
  return n;
}

export function adminRoutes(d: AdminRouteDeps): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/admin' });
  const { ops } = d;
  const actor = (ctx: GatewayContext) => adminActor(ctx.state.operator);
  const small = jsonInput(ADMIN_BODY_MAX_BYTES);
  const appid = (ctx: GatewayContext) => String(ctx.params.appid);
  router.use(requireAdmin(d.credentials));

  // ---- tenants ----------------------------------------------------------------------------------
  router.get('/tenants', async (ctx) => {
    const q = parseQuery(ctx, tenantsQuery);
    ctx.body = await ops.listTenants({
      limit: countOf(q.limit, 50, 200, 'limit'),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      ...(q.q !== undefined ? { q: q.q } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
    });
  });
  // One definition, or {tenants: [...]}: every one is validated first, as the CLI validates files; nothing partial.
  router.post('/tenants', jsonInput(ADMIN_APPLY_MAX_BYTES), async (ctx) => {
    const entries = bodyEntries((ctx.request as { body?: unknown }).body, 'tenants');
    const defs = validateDefinitions(entries, tenantKind(ops.sections, { allowPrivateUrls: d.allowPrivateUrls }));
    ctx.body = { applied: await ops.applyTenants(actor(ctx), defs) };
  });
  router.get('/tenants/:appid', async (ctx) => {
    ctx.body = { tenant: await ops.getTenant(appid(ctx)) };
  });
  router.post('/tenants/:appid/disable', small, async (ctx) => {
    parseBody(ctx, emptyBody);
    ctx.body = { tenant: await ops.setTenantStatus(actor(ctx), appid(ctx), 'disabled') };
  });
  router.post('/tenants/:appid/enable', small, async (ctx) => {
    parseBody(ctx, emptyBody);
    ctx.body = { tenant: await ops.setTenantStatus(actor(ctx), appid(ctx), 'active') };
  });
  router.delete('/tenants/:appid', async (ctx) => {
    ctx.body = { removed: await ops.removeTenant(actor(ctx), appid(ctx)) };
  });

  // ---- service keys -----------------------------------------------------------------------------
  router.get('/tenants/:appid/keys', async (ctx) => {
    ctx.body = { keys: await ops.listKeys(appid(ctx)) };
  });
  router.post('/tenants/:appid/keys', small, async (ctx) => {
    const body = parseBody(ctx, createKeyBody);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 201;
    ctx.body = await ops.createKey(actor(ctx), appid(ctx), body.name);
  });
  router.delete('/tenants/:appid/keys/:keyId', async (ctx) => {
    const r = await ops.revokeKey(actor(ctx), appid(ctx), String(ctx.params.keyId));
    ctx.body = { revoked: r.revoked, announced: r.announced };
  });

  // ---- webhook deliveries -----------------------------------------------------------------------
  router.get('/tenants/:appid/webhook', async (ctx) => {
    ctx.body = { webhook: await ops.webhookStatus(appid(ctx)) };
  });
  router.get('/tenants/:appid/webhook/dead', async (ctx) => {
    const q = parseQuery(ctx, deadQuery);
    ctx.body = { dead: await ops.deadLetters(appid(ctx), countOf(q.limit, 50, 1000, 'limit')) };
  });
  router.post('/tenants/:appid/webhook/redeliver', small, async (ctx) => {
    const body = parseBody(ctx, redeliverBody);
    ctx.body = { redelivered: await ops.redeliver(actor(ctx), appid(ctx), body.ids ?? 'all') };
  });

  // ---- users ------------------------------------------------------------------------------------
  router.delete('/tenants/:appid/users/:openid/sessions', async (ctx) => {
    ctx.body = { revoked: await ops.revokeUserSessions(actor(ctx), appid(ctx), String(ctx.params.openid)) };
  });

  // ---- merchants --------------------------------------------------------------------------------
  router.get('/merchants', async (ctx) => {
    ctx.body = { merchants: await ops.listMerchants() };
  });
  router.post('/merchants', jsonInput(ADMIN_APPLY_MAX_BYTES), async (ctx) => {
    const entries = bodyEntries((ctx.request as { body?: unknown }).body, 'merchants');
    const defs = validateDefinitions(entries, merchantKind({ allowPrivateUrls: d.allowPrivateUrls }));
    ctx.body = { applied: await ops.applyMerchants(actor(ctx), defs) };
  });
  router.get('/merchants/:mchid', async (ctx) => {
    ctx.body = { merchant: await ops.getMerchant(String(ctx.params.mchid)) };
  });
  router.delete('/merchants/:mchid', async (ctx) => {
    const q = parseQuery(ctx, forceQuery);
    ctx.body = { removed: await ops.removeMerchant(actor(ctx), String(ctx.params.mchid), q.force === 'true') };
  });

  // ---- audit log --------------------------------------------------------------------------------
  // Every change made through the CLI or this API, and the authorizations WeChat reported.
  router.get('/audit', async (ctx) => {
    const q = parseQuery(ctx, auditQuery);
    ctx.body = { entries: await d.audit.list({ ...(q.appid ? { appid: q.appid } : {}), limit: countOf(q.limit, 50, 500, 'limit') }) };
  });
  return router;
}
