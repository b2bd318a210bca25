/**
 * Admin HTTP API under /__sandbox, for other processes and humans. Plain HTTP statuses and
 * `{error}` bodies (not WeChat style); never counted, never faulted.
 */
import { z } from 'zod';
import { ManualClock } from '../kernel/clock';
import { guarded, parse } from './admin-input';
import { AdminError, type SbxContext } from './http';
import { payAdminRoutes } from './pay/pay-admin-routes';
import { platformAdminRoutes } from './platform/platform-admin-routes';
import { newRouter, type SbxRouter } from './router';
import type { Sandbox } from './types';

const appSchema = z.object({ appid: z.string().min(1), secret: z.string().min(1) });
const faultSchema = z.object({
  endpoint: z.string().min(1).optional(),
  appid: z.string().min(1).optional(),
  errcode: z.number().int().optional(),
  errmsg: z.string().optional(),
  delayMs: z.number().min(0).optional(),
  payError: z.object({ status: z.number().int(), code: z.string().min(1), message: z.string().optional() }).optional(),
  times: z.number().int().min(1).default(1),
});
const loginCodeSchema = z.object({
  appid: z.string().min(1),
  openid: z.string().min(1).optional(),
  unionid: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  errcode: z.number().int().optional(),
});
const phoneCodeSchema = z.object({
  appid: z.string().min(1),
  phone: z.string().min(1),
  countryCode: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
});
const advanceSchema = z.object({ ms: z.number().int().min(0) });
const wordsSchema = z.object({ words: z.array(z.string()) });
const kindSchema = z.enum(['subscribe', 'custom']);

function knownApp(ctx: SbxContext, appids: () => string[]): string {
  const appid = String(ctx.params.appid);
  if (!appids().includes(appid)) throw new AdminError(404, `unknown appid ${appid}`);
  return appid;
}

/** `isKnown`: appids login codes, phone codes and token revocation accept (registered apps and platform authorizers). */
export function adminRoutes(sb: Sandbox, appids: () => string[], isKnown: (appid: string) => boolean = (a) => appids().includes(a)): SbxRouter {
  const r = newRouter('/__sandbox');

  r.get('/health', (ctx) => {
    ctx.body = { ok: true, now: sb.clock.now() };
  });

  r.get('/calls', (ctx) => {
    const endpoint = ctx.query.endpoint;
    if (typeof endpoint === 'string') {
      const appid = typeof ctx.query.appid === 'string' ? ctx.query.appid : undefined;
      ctx.body = { endpoint, appid: appid ?? null, count: sb.calls(endpoint, appid) };
      return;
    }
    ctx.body = { calls: sb.callCounts() };
  });

  r.post('/reset', (ctx) => {
    sb.reset();
    ctx.body = { ok: true };
  });

  r.get('/faults', (ctx) => {
    ctx.body = { faults: sb.pendingFaults() };
  });
  r.post('/faults', (ctx) => {
    const f = parse(faultSchema, ctx);
    guarded(() => sb.injectFault(f));
    ctx.status = 201;
    ctx.body = { ok: true };
  });
  r.delete('/faults', (ctx) => {
    sb.clearFaults();
    ctx.body = { ok: true };
  });

  r.get('/apps', (ctx) => {
    ctx.body = { apps: appids() };
  });
  r.post('/apps', (ctx) => {
    const app = parse(appSchema, ctx);
    sb.registerApp(app);
    ctx.status = 201;
    ctx.body = { ok: true, appid: app.appid };
  });

  r.post('/tokens/:appid/rotate', (ctx) => {
    const appid = knownApp(ctx, appids);
    ctx.body = { access_token: sb.rotateToken(appid) };
  });
  r.post('/tokens/:appid/revoke', (ctx) => {
    const appid = String(ctx.params.appid);
    if (!isKnown(appid)) throw new AdminError(404, `unknown appid ${appid}`);
    sb.revokeToken(appid);
    ctx.body = { ok: true };
  });

  r.post('/login-codes', (ctx) => {
    const { appid, ...opts } = parse(loginCodeSchema, ctx);
    if (!isKnown(appid)) throw new AdminError(404, `unknown appid ${appid}`);
    ctx.status = 201;
    ctx.body = { code: sb.issueLoginCode(appid, opts) };
  });
  r.get('/session-keys/:appid/:openid', (ctx) => {
    const key = sb.sessionKeyOf(String(ctx.params.appid), String(ctx.params.openid));
    if (key === undefined) throw new AdminError(404, 'no session for this user');
    ctx.body = { session_key: key };
  });

  r.post('/phone-codes', (ctx) => {
    const { appid, phone, countryCode } = parse(phoneCodeSchema, ctx);
    if (!isKnown(appid)) throw new AdminError(404, `unknown appid ${appid}`);
    ctx.status = 201;
    ctx.body = { code: guarded(() => sb.issuePhoneCode(appid, phone, countryCode)) };
  });

  r.get('/messages/:kind', (ctx) => {
    const kind = kindSchema.safeParse(ctx.params.kind);
    if (!kind.success) throw new AdminError(404, 'kind must be subscribe or custom');
    ctx.body = { messages: sb.sentMessages(kind.data) };
  });

  r.post('/risky-words', (ctx) => {
    sb.setRiskyWords(parse(wordsSchema, ctx).words);
    ctx.body = { ok: true };
  });
  r.post('/review-words', (ctx) => {
    sb.setReviewWords(parse(wordsSchema, ctx).words);
    ctx.body = { ok: true };
  });

  r.post('/clock/advance', (ctx) => {
    const clock = sb.clock;
    if (!(clock instanceof ManualClock)) throw new AdminError(409, 'the sandbox clock is not a ManualClock');
    const { ms } = parse(advanceSchema, ctx);
    clock.advance(ms);
    ctx.body = { now: clock.now() };
  });

  payAdminRoutes(r, sb.pay);
  platformAdminRoutes(r, sb.platform);

  return r;
}
