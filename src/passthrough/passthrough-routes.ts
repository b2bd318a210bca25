import Router from '@koa/router';
import { AppError } from '../kernel/errors';
import { type GatewayContext, type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { readRawBody } from '../http/raw-body';
import type { ServiceKeys } from '../auth/service-keys';
import { requireServiceKey } from '../auth/service-key-auth';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { RateLimits } from '../limits/rate-limits';
import { CLASSIC_TOKEN_API, STABLE_TOKEN_API } from '../token/sources/app-secret-token';

const SAFE_PATH = /^\/[A-Za-z0-9_\-./]{1,200}$/;
/** Fetching a token through the passthrough would kick the fleet's token; the gateway owns those. */
const FORBIDDEN = new Set([CLASSIC_TOKEN_API, STABLE_TOKEN_API]);
const PASSTHROUGH_BODY_LIMIT = 10 * 1024 * 1024;

/**
 * /:appid/wxapi/<path>: forwards any method to <apiBase>/<path> with the query and body as given and
 * the tenant's access token injected. WeChat's JSON comes back verbatim (errcodes included) so
 * existing SDK code keeps working; binary answers are streamed.
 */
export function passthroughRoutes(keys: ServiceKeys, clients: WeChatClients, limits: Pick<RateLimits, 'middleware'>): Router<GatewayState> {
  const router = new Router<GatewayState>();
  // Counted once the key is checked, so callers without one cannot use up the tenant's rate.
  router.all('/:appid/wxapi/{*rest}', requireServiceKey(keys), limits.middleware('passthrough'), async (ctx) => forward(ctx, clients));
  return router;
}

async function forward(ctx: GatewayContext, clients: WeChatClients): Promise<void> {
  const tenant = tenantOf(ctx);
  const prefix = `/${tenant.appid}/wxapi`;
  const api = ctx.path.slice(prefix.length);
  // No empty, "." or ".." segments: URL normalisation would otherwise turn /cgi-bin/./token into a
  // path the deny-list does not see, and "//host" into another host.
  const segments = api.split('/').slice(1);
  if (!SAFE_PATH.test(api) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new AppError(400, 'INVALID_API_PATH', 'the WeChat API path has characters or segments that are not allowed');
  }
  if (FORBIDDEN.has(api.toLowerCase())) throw new AppError(403, 'PASSTHROUGH_FORBIDDEN', `${api} is managed by the gateway; use GET /${tenant.appid}/access-token`);
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (k === 'access_token') continue;
    if (typeof v === 'string') query[k] = v;
  }
  const hasBody = !['GET', 'HEAD'].includes(ctx.method);
  const body = hasBody ? await readRawBody(ctx, PASSTHROUGH_BODY_LIMIT) : undefined;
  const contentType = ctx.get('content-type');
  const res = await clients.for(tenant).execute(api, {
    method: ctx.method as 'GET',
    // Caller-chosen paths must not become metric labels (unbounded series).
    metricLabel: 'passthrough',
    query,
    ...(body && body.length ? { body } : {}),
    ...(contentType && body?.length ? { headers: { 'content-type': contentType } } : {}),
  });
  ctx.status = res.status;
  if (res.kind === 'json') {
    ctx.type = 'application/json';
    ctx.body = res.raw;
    return;
  }
  ctx.type = res.contentType;
  for (const [k, v] of Object.entries(res.headers)) ctx.set(k, v);
  ctx.body = res.stream;
}
