import Router from '@koa/router';
import { z } from 'zod';
import { type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { jsonInput, parseBody } from '../http/http-input';
import type { Clock } from '../kernel/clock';
import type { ServiceKeys } from '../auth/service-keys';
import { requireServiceKey } from '../auth/service-key-auth';
import type { TenantTokens } from '../token/tenant-tokens';
import { secondsLeft } from '../token/token-record';

export const invalidateBody = z.object({ access_token: z.string().min(1).max(1024) }).strict();

/**
 * The central token service ("中控服务器"): a tenant's other systems take the token from here and
 * report a token WeChat refused, so nobody else ever calls the token API and kicks the fleet's token.
 */
export function tokenRoutes(tokens: TenantTokens, keys: ServiceKeys, clock: Clock): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/:appid/access-token' });
  router.use(requireServiceKey(keys));
  router.get('/', async (ctx) => {
    const rec = await tokens.get(tenantOf(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { access_token: rec.accessToken, expires_in: secondsLeft(rec, clock.now()) };
  });
  router.post('/invalidate', jsonInput(4096), async (ctx) => {
    const { access_token: failed } = parseBody(ctx, invalidateBody);
    const rec = await tokens.invalidateReported(tenantOf(ctx), failed);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { access_token: rec.accessToken, expires_in: secondsLeft(rec, clock.now()) };
  });
  return router;
}
