/** Admin HTTP API of the sandbox's third-party platforms, under /__sandbox/platform (plain statuses, `{error}` bodies). */
import { z } from 'zod';
import { guarded, guardedAsync, parse } from '../admin-input';
import { AdminError, type SbxContext } from '../http';
import type { SbxRouter } from '../router';
import type { PlatformApi } from './types';

const platformSchema = z.object({
  componentAppid: z.string().min(1),
  secret: z.string().min(1),
  token: z.string().min(1),
  aesKey: z.string().min(1),
  eventUrl: z.string().min(1).optional(),
  ticketIntervalMs: z.number().int().min(10).optional(),
  rotateRefreshTokens: z.boolean().optional(),
});
const funcIds = z.array(z.number().int().min(1)).min(1).optional();
const authorizeSchema = z.object({ preAuthCode: z.string().min(1), authorizerAppid: z.string().min(1), funcIds });
const updateSchema = z.object({ authorizerAppid: z.string().min(1), preAuthCode: z.string().min(1).optional(), funcIds });
const authorizerSchema = z.object({ authorizerAppid: z.string().min(1) });
const urlSchema = z.object({ url: z.string().min(1) });
const rotateSchema = z.object({ rotate: z.boolean() });

function knownPlatform(ctx: SbxContext, platform: PlatformApi): string {
  const c = String(ctx.params.componentAppid);
  if (!platform.exists(c)) throw new AdminError(404, `unknown component appid ${c}`);
  return c;
}

export function platformAdminRoutes(r: SbxRouter, platform: PlatformApi): void {
  r.post('/platform/platforms', (ctx) => {
    const p = parse(platformSchema, ctx);
    guarded(() => platform.registerPlatform(p));
    ctx.status = 201;
    ctx.body = { ok: true, componentAppid: p.componentAppid };
  });

  r.get('/platform/events', (ctx) => {
    ctx.body = { events: platform.events() };
  });

  r.post('/platform/:componentAppid/ticket', async (ctx) => {
    const c = knownPlatform(ctx, platform);
    ctx.body = await platform.sendTicket(c);
  });
  r.post('/platform/:componentAppid/stop-tickets', (ctx) => {
    platform.stopTickets(knownPlatform(ctx, platform));
    ctx.body = { ok: true };
  });
  r.post('/platform/:componentAppid/event-url', (ctx) => {
    const c = knownPlatform(ctx, platform);
    const { url } = parse(urlSchema, ctx);
    guarded(() => platform.setEventUrl(c, url));
    ctx.body = { ok: true };
  });
  r.post('/platform/:componentAppid/rotate-refresh-tokens', (ctx) => {
    const c = knownPlatform(ctx, platform);
    const { rotate } = parse(rotateSchema, ctx);
    platform.setRotateRefreshTokens(c, rotate);
    ctx.body = { ok: true, rotate };
  });

  r.get('/platform/:componentAppid/authorizers', (ctx) => {
    ctx.body = { authorizers: platform.authorizers(knownPlatform(ctx, platform)) };
  });
  r.post('/platform/:componentAppid/authorize', async (ctx) => {
    const componentAppid = knownPlatform(ctx, platform);
    const o = parse(authorizeSchema, ctx);
    ctx.body = await guardedAsync(() => platform.authorize({ componentAppid, ...o }));
  });
  r.post('/platform/:componentAppid/update-authorization', async (ctx) => {
    const componentAppid = knownPlatform(ctx, platform);
    const o = parse(updateSchema, ctx);
    ctx.body = await guardedAsync(() => platform.updateAuthorization({ componentAppid, ...o }));
  });
  r.post('/platform/:componentAppid/unauthorize', async (ctx) => {
    const c = knownPlatform(ctx, platform);
    const { authorizerAppid } = parse(authorizerSchema, ctx);
    ctx.body = { event: await guardedAsync(() => platform.unauthorize(c, authorizerAppid)) };
  });
  r.post('/platform/:componentAppid/revoke-refresh-token', (ctx) => {
    const c = knownPlatform(ctx, platform);
    const { authorizerAppid } = parse(authorizerSchema, ctx);
    ctx.body = { refresh_token: guarded(() => platform.revokeRefreshToken(c, authorizerAppid)) };
  });
}
