import Router from '@koa/router';
import { type GatewayMiddleware, type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import type { ServiceKeys } from '../auth/service-keys';
import { requireServiceKey } from '../auth/service-key-auth';
import type { WeChatClients } from '../wechat/wechat-clients';
import { checkText, generateScheme, generateUrlLink, getTempMedia, getUnlimitedWxaCode, sendCustomerMessage, sendSubscribeMessage, uploadTempMedia } from '../wechat/mp-api';
import { jsonInput, parseBody, parseQuery, validate } from '../http/http-input';
import { requireSession, sessionOrKey, sessionUser } from '../auth/session-auth';
import type { SessionStore } from '../auth/session-store';
import type { RateLimits } from '../limits/rate-limits';
import { customerBody, linkBody, MEDIA_ID_PARAM, mediaQuery, subscribeBody, textCheckBody, wxacodeBody } from './schemas';
import { readMediaUpload } from './media-upload';

export interface MiniappRouteDeps {
  clients: WeChatClients;
  keys: ServiceKeys;
  sessions: SessionStore;
  limits: Pick<RateLimits, 'middleware'>;
}

/**
 * Mini-program APIs (auth: "key" = tenant service key, "session" = user session token):
 * - POST /:appid/wxacode               session or key  -> image bytes (getwxacodeunlimit)
 * - POST /:appid/messages/subscribe    key             -> {sent, msgid}
 * - POST /:appid/messages/customer     key             -> {sent}
 * - POST /:appid/security/text-check   session         -> {suggest, label, traceId}
 * - POST /:appid/media?type=           key (multipart) -> {type, mediaId, createdAt}
 * - GET  /:appid/media/:mediaId        key             -> the bytes (or {videoUrl} for videos)
 * - POST /:appid/links/url             key             -> {urlLink}
 * - POST /:appid/links/scheme          key             -> {openlink}
 */
export function miniappRoutes(d: MiniappRouteDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  // Every route counts against the tenant's `miniapp` rate, once the caller is authenticated.
  const rate = d.limits.middleware('miniapp');
  const thenRate =
    (auth: GatewayMiddleware): GatewayMiddleware =>
    (ctx, next) =>
      auth(ctx, () => rate(ctx, next));
  const key = thenRate(requireServiceKey(d.keys));
  const session = thenRate(requireSession(d.sessions));
  const userOrKey = thenRate(sessionOrKey(d.sessions, d.keys));
  const client = (ctx: Parameters<typeof tenantOf>[0]) => d.clients.for(tenantOf(ctx));

  router.post('/:appid/wxacode', userOrKey, jsonInput(4 * 1024), async (ctx) => {
    const args = parseBody(ctx, wxacodeBody);
    const image = await getUnlimitedWxaCode(client(ctx), args);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = image.contentType;
    ctx.body = image.data;
  });

  router.post('/:appid/messages/subscribe', key, jsonInput(64 * 1024), async (ctx) => {
    const msg = parseBody(ctx, subscribeBody);
    const r = await sendSubscribeMessage(client(ctx), msg);
    ctx.body = { sent: true, ...r };
  });

  router.post('/:appid/messages/customer', key, jsonInput(64 * 1024), async (ctx) => {
    const msg = parseBody(ctx, customerBody);
    await sendCustomerMessage(client(ctx), msg);
    ctx.body = { sent: true };
  });

  router.post('/:appid/security/text-check', session, jsonInput(16 * 1024), async (ctx) => {
    const body = parseBody(ctx, textCheckBody);
    ctx.body = await checkText(client(ctx), { ...body, openid: sessionUser(ctx).openid });
  });

  router.post('/:appid/media', key, async (ctx) => {
    const { type } = parseQuery(ctx, mediaQuery);
    const file = await readMediaUpload(ctx, type);
    ctx.body = await uploadTempMedia(client(ctx), type, file);
  });

  router.get('/:appid/media/:mediaId', key, async (ctx) => {
    const mediaId = validate(MEDIA_ID_PARAM, ctx.params.mediaId, 'INVALID_MEDIA_ID', 'mediaId');
    const media = await getTempMedia(client(ctx), mediaId);
    ctx.set('Cache-Control', 'private, no-store');
    if (media.kind === 'url') {
      ctx.body = { videoUrl: media.url };
      return;
    }
    ctx.type = media.contentType;
    for (const h of ['content-disposition', 'content-length']) {
      const v = media.headers[h];
      if (v !== undefined) ctx.set(h, v);
    }
    ctx.body = media.stream;
  });

  router.post('/:appid/links/url', key, jsonInput(8 * 1024), async (ctx) => {
    const b = parseBody(ctx, linkBody);
    ctx.body = await generateUrlLink(client(ctx), b);
  });

  router.post('/:appid/links/scheme', key, jsonInput(8 * 1024), async (ctx) => {
    const { path, query, env_version, ...expiry } = parseBody(ctx, linkBody);
    const target = { ...(path !== undefined ? { path } : {}), ...(query !== undefined ? { query } : {}), ...(env_version ? { env_version } : {}) };
    const hasExpiry = Object.keys(expiry).length > 0;
    ctx.body = await generateScheme(client(ctx), {
      ...(Object.keys(target).length > 0 ? { jump_wxa: target } : {}),
      ...(hasExpiry ? { is_expire: true, ...expiry } : {}),
    });
  });

  return router;
}
