import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import { AppError } from '../kernel/errors';
import type { Clock } from '../kernel/clock';
import type { GatewayContext, GatewayState } from '../http/context';
import { readRawBody } from '../http/raw-body';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';
import { APPID_PATTERN } from '../tenancy/tenant';
import type { Platform } from '../platforms/platform';
import type { Platforms } from '../platforms/platforms';
import { openPlatformEvent, type EventQuery, type PlatformEvent } from './platform-events';
import type { Authorizations } from './authorizations';
import type { RateLimits } from '../limits/rate-limits';
import type { Rate } from '../kernel/rates';

export interface PlatformRouteDeps {
  platforms: Platforms;
  authorizations: Authorizations;
  clock: Clock;
  /** Remembers handled events for the timestamp window: a replay is answered without being handled again. */
  redis: Redis;
  timestampWindowS: number;
  /** PUBLIC_BASE_URL: where the authorization page sends the mini program's admin back to. */
  publicBaseUrl?: string;
  /** Counts views of the public authorization page per platform, across every instance. */
  limits?: Pick<RateLimits, 'consume'>;
  /** RATE_LIMIT_PLATFORM_AUTHORIZE (`null`: off). */
  authorizeRate?: Rate | null;
}

const EVENT_MAX_BYTES = 64 * 1024;
const EVENT_BODY_TIMEOUT_MS = 10_000;
/** Authorization codes and pre-auth codes are opaque WeChat strings of this alphabet. */
const CODE = /^[A-Za-z0-9@_\-!.~]{1,512}$/;
/** WeChat's authorization page (the sandbox serves it at its own base). */
const LOGIN_PAGE_BASE = 'https://mp.weixin.qq.com';
const AUTH_TYPE_MINI_PROGRAMS = '2';

/**
 * A third-party platform's URLs (outside /:appid; the platform's authorized mini programs' pushes
 * are served by the portal at /platform/:componentAppid/:appid/portal):
 * - POST /platform/:componentAppid/events       WeChat (signed, encrypted) -> "success"
 * - GET  /platform/:componentAppid/authorize    -> a page with the authorization link (JSON with Accept: application/json)
 * - GET  /platform/:componentAppid/authorized   WeChat's redirect after the admin approved -> tenant created or updated
 */
export function platformRoutes(d: PlatformRouteDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();

  router.post('/platform/:componentAppid/events', async (ctx) => {
    const platform = await platformOf(d, ctx);
    const q: EventQuery = {};
    for (const k of ['timestamp', 'nonce', 'msg_signature', 'encrypt_type'] as const) {
      const v = single(ctx, k);
      if (v !== undefined) q[k] = v;
    }
    const body = (await readRawBody(ctx, EVENT_MAX_BYTES, EVENT_BODY_TIMEOUT_MS)).toString('utf8');
    const event = openPlatformEvent(platform.componentAppid, platform, q, body, Math.floor(d.clock.now() / 1000), d.timestampWindowS);
    // A verified event seen before (its msg_signature, inside the window) is a replay, or a retry of one
    // already handled: answered, not handled again (a replayed `unauthorized` must not undo a later authorization).
    const seenKey = redisKeys.platformEvent(
      platform.componentAppid,
      createHash('sha256')
        .update(q.msg_signature ?? '')
        .digest('hex'),
    );
    const first = await d.redis.set(seenKey, '1', 'EX', 2 * d.timestampWindowS + 60, 'NX').then(
      (r) => r === 'OK',
      (err: unknown) => {
        ctx.state.log.debug({ err: (err as Error).message }, 'platform event handled without its replay record');
        return true;
      },
    );
    if (first) {
      try {
        await handleEvent(d, ctx, platform, event);
      } catch (err) {
        // Not handled: WeChat's retry of the same event must get through.
        await d.redis.del(seenKey).catch(() => undefined);
        throw err;
      }
    } else {
      ctx.state.log.info({ event: event.kind }, 'platform event already handled: answered, not handled again');
    }
    ctx.type = 'text/plain';
    ctx.body = 'success';
  });

  router.get('/platform/:componentAppid/authorize', async (ctx) => {
    const platform = await platformOf(d, ctx);
    // Public, unauthenticated, and each view costs a WeChat call (a pre-auth code): counted per platform.
    if (d.limits && d.authorizeRate) await d.limits.consume(platform.componentAppid, 'authorize', d.authorizeRate);
    const redirect = single(ctx, 'redirect');
    if (redirect !== undefined && !isHttpUrl(redirect)) throw new AppError(400, 'INVALID_QUERY', 'redirect must be an http(s) URL');
    // The admin is sent back only to the vendor's own sites: the platform file's redirectOrigins, or this gateway.
    if (redirect !== undefined && !allowedOrigins(platform, d.publicBaseUrl).has(new URL(redirect).origin)) {
      throw new AppError(400, 'INVALID_QUERY', "redirect must be on an origin of the platform file's redirectOrigins (or PUBLIC_BASE_URL)");
    }
    if (!d.publicBaseUrl)
      throw new AppError(503, 'PLATFORM_NOT_CONFIGURED', 'PUBLIC_BASE_URL is not set: WeChat would have nowhere to send the admin back to', { headers: { 'Retry-After': '60' } });
    const { preAuthCode, expiresIn } = await d.platforms.api.preAuthCode(platform);
    const next = redirect ? `?${new URLSearchParams({ next: redirect, next_sig: nextSignature(platform, redirect) }).toString()}` : '';
    const back = `${d.publicBaseUrl.replace(/\/+$/, '')}/platform/${platform.componentAppid}/authorized${next}`;
    const url =
      `${platform.apiBase ?? LOGIN_PAGE_BASE}/cgi-bin/componentloginpage?` +
      new URLSearchParams({ component_appid: platform.componentAppid, pre_auth_code: preAuthCode, redirect_uri: back, auth_type: AUTH_TYPE_MINI_PROGRAMS }).toString();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = { url, expiresIn };
      return;
    }
    ctx.type = 'text/html';
    ctx.body = page(
      `Authorize ${escapeHtml(platform.name)}`,
      `<p><a href="${escapeHtml(url)}">Authorize your mini program to ${escapeHtml(platform.name)}</a></p><p>The link is valid for ${Math.floor(expiresIn / 60)} minutes.</p>`,
    );
  });

  router.get('/platform/:componentAppid/authorized', async (ctx) => {
    const platform = await platformOf(d, ctx);
    const code = single(ctx, 'auth_code');
    if (code === undefined || !CODE.test(code)) throw new AppError(400, 'INVALID_QUERY', 'auth_code is required');
    const next = single(ctx, 'next');
    const sig = single(ctx, 'next_sig');
    if (next !== undefined && !isHttpUrl(next)) throw new AppError(400, 'INVALID_QUERY', 'next must be an http(s) URL');
    // Only a `next` the authorization page put into redirect_uri is followed: the callback is no open redirect.
    if (next !== undefined && (sig === undefined || !sameMac(nextSignature(platform, next), sig))) throw new AppError(400, 'INVALID_QUERY', 'next was not issued by the authorization page');
    const { appid } = await d.authorizations.exchange(platform, code);
    ctx.set('Cache-Control', 'no-store');
    if (next) {
      const u = new URL(next);
      u.searchParams.set('appid', appid);
      ctx.redirect(u.toString());
      return;
    }
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = { authorized: true, appid, componentAppid: platform.componentAppid };
      return;
    }
    ctx.type = 'text/html';
    ctx.body = page('Authorized', `<p>Mini program ${escapeHtml(appid)} is now served through ${escapeHtml(platform.name)}.</p>`);
  });

  return router;
}

async function handleEvent(d: PlatformRouteDeps, ctx: GatewayContext, platform: Platform, event: PlatformEvent): Promise<void> {
  switch (event.kind) {
    case 'ticket':
      if (!(await d.platforms.tickets.save(platform.componentAppid, event.ticket, new Date(event.createTime * 1000))))
        ctx.state.log.info({ createTime: event.createTime }, 'older component_verify_ticket ignored (a newer one is stored)');
      return;
    case 'authorized':
    case 'updateauthorized':
      try {
        await d.authorizations.exchange(platform, event.authorizationCode);
      } catch (err) {
        // The callback may have used the code first; either way WeChat must not resend a spent code.
        if (!(err instanceof AppError && err.code === 'AUTHORIZATION_FAILED')) throw err;
        ctx.state.log.info({ authorizer: event.authorizerAppid }, 'authorization event with a spent code (the callback came first)');
      }
      return;
    case 'unauthorized':
      await d.authorizations.revoke(platform, event.authorizerAppid, event.createTime);
      return;
    default:
      ctx.state.log.info({ infoType: event.infoType }, 'platform event ignored');
  }
}

async function platformOf(d: PlatformRouteDeps, ctx: GatewayContext): Promise<Platform> {
  const componentAppid = String(ctx.params.componentAppid);
  if (!APPID_PATTERN.test(componentAppid)) throw new AppError(400, 'INVALID_APPID', 'the component appid must be "wx" followed by 16 lowercase hex digits');
  const platform = await d.platforms.directory.find(componentAppid);
  if (!platform) throw new AppError(404, 'PLATFORM_NOT_FOUND', `no platform ${componentAppid}`);
  return platform;
}

/** One query parameter, given at most once (a repeated one is refused, never silently dropped). */
function single(ctx: GatewayContext, k: string): string | undefined {
  const v = ctx.query[k];
  if (Array.isArray(v)) throw new AppError(400, 'INVALID_QUERY', `${k} given more than once`);
  return typeof v === 'string' ? v : undefined;
}

/** The MAC of a `next` URL, keyed by the platform's secret: only the authorization page can issue one. */
function nextSignature(platform: Platform, next: string): string {
  return createHmac('sha256', `authorize-next:${platform.componentAppid}:${platform.secret}`).update(next).digest('base64url');
}

function sameMac(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function allowedOrigins(platform: Platform, publicBaseUrl: string | undefined): ReadonlySet<string> {
  const out = new Set(platform.redirectOrigins ?? []);
  if (publicBaseUrl) out.add(new URL(publicBaseUrl).origin);
  return out;
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && v.length <= 2048;
  } catch {
    return false;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
