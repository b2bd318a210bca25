import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../kernel/errors';
import { type GatewayState } from '../http/context';
import { tenantOf } from '../tenancy/tenant-context';
import { bearerOf } from '../auth/admin-auth';
import type { Clock } from '../kernel/clock';
import type { WeChatClients } from '../wechat/wechat-clients';
import { code2Session, getPhoneNumber } from '../wechat/mp-api';
import { decryptUserData, verifyRawDataSignature } from './data-crypt';
import { jsonInput, parseBody } from '../http/http-input';
import { requireSession, sessionUser } from '../auth/session-auth';
import type { SessionStore } from '../auth/session-store';
import type { RateLimits } from '../limits/rate-limits';
import { publicUser, userGone, type UserRepository } from './user-repository';
import { phoneFrom, profileFrom } from './user-data';

/** A wx.login code: printable ASCII, no spaces (real codes are 32 characters). */
export const loginBody = z.strictObject({
  code: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
});

const base64Field = (max: number) => z.string().min(1).max(max);

/** `{"all": true}` ends every session of the user, on every device; no body ends this one. */
export const logoutBody = z.strictObject({ all: z.boolean().optional() });

/**
 * Unknown keys are ignored here (not refused) so a client may post the result of
 * wx.getUserProfile / getPhoneNumber as it comes (it also carries errMsg, cloudID, userInfo, ...).
 */
export const profileBody = z
  .object({
    encryptedData: base64Field(16 * 1024),
    iv: base64Field(64),
    rawData: z
      .string()
      .min(1)
      .max(8 * 1024)
      .optional(),
    signature: z.string().min(1).max(128).optional(),
  })
  .refine((b) => (b.rawData === undefined) === (b.signature === undefined), {
    message: 'rawData and signature must be sent together',
    path: ['signature'],
  });

export const phoneBody = z
  .object({
    code: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
    encryptedData: base64Field(4 * 1024).optional(),
    iv: base64Field(64).optional(),
  })
  .refine((b) => b.code !== undefined || (b.encryptedData !== undefined && b.iv !== undefined), {
    message: 'send {code} (getPhoneNumber) or the legacy {encryptedData, iv}',
    path: ['code'],
  });

export interface UsersRouteDeps {
  clock: Clock;
  clients: WeChatClients;
  users: UserRepository;
  sessions: SessionStore;
  /** Per-tenant rates: `login` on login, `users` on the rest (counted once the caller is authenticated). */
  limits: Pick<RateLimits, 'middleware'>;
}

/**
 * Login and the user's own data:
 * - POST /:appid/auth/login {code}            no auth  -> {token, expiresIn, openid, unionid?, isNewUser}
 * - POST /:appid/auth/logout {all?}           session  -> 204
 * - GET  /:appid/users/me                     session  -> the stored user (never the session key)
 * - POST /:appid/users/me/profile             session  -> {profile}
 * - POST /:appid/users/me/phone               session  -> {phone}
 */
export function usersRoutes(d: UsersRouteDeps): Router<GatewayState> {
  const router = new Router<GatewayState>();
  const session = requireSession(d.sessions);
  const loginRate = d.limits.middleware('login');
  const usersRate = d.limits.middleware('users');

  router.post('/:appid/auth/login', loginRate, jsonInput(1024), async (ctx) => {
    const { code } = parseBody(ctx, loginBody);
    const tenant = tenantOf(ctx);
    const wx = await code2Session(d.clients.for(tenant), code);
    const now = d.clock.now();
    const { isNewUser } = await d.users.recordLogin(tenant.appid, wx.openid, wx.unionid, wx.sessionKey, new Date(now));
    const issued = await d.sessions.create(tenant.appid, wx.openid, now);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      token: issued.token,
      expiresIn: issued.expiresIn,
      openid: wx.openid,
      ...(wx.unionid !== undefined ? { unionid: wx.unionid } : {}),
      isNewUser,
    };
  });

  router.post('/:appid/auth/logout', session, usersRate, jsonInput(256), async (ctx) => {
    const { all } = parseBody(ctx, logoutBody);
    const token = bearerOf(ctx.get('authorization'));
    const owner = { appid: tenantOf(ctx).appid, openid: sessionUser(ctx).openid };
    if (token && all === true) await d.sessions.destroyAll(token, owner);
    else if (token) await d.sessions.destroy(token, owner);
    ctx.status = 204;
  });

  router.get('/:appid/users/me', session, usersRate, async (ctx) => {
    const { appid } = tenantOf(ctx);
    const user = await d.users.find(appid, sessionUser(ctx).openid);
    if (!user) throw userGone();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = publicUser(user);
  });

  router.post('/:appid/users/me/profile', session, usersRate, jsonInput(32 * 1024), async (ctx) => {
    const body = parseBody(ctx, profileBody);
    const { appid } = tenantOf(ctx);
    const { openid } = sessionUser(ctx);
    const sessionKey = await d.users.sessionKey(appid, openid);
    if (body.rawData !== undefined && !verifyRawDataSignature(body.rawData, sessionKey, body.signature ?? '')) {
      throw new AppError(400, 'INVALID_SIGNATURE', 'signature does not match rawData for the current session; log in again if the session key changed');
    }
    const data = decryptUserData(sessionKey, body.encryptedData, body.iv, appid);
    const profile = profileFrom(data, openid);
    await d.users.setProfile(appid, openid, profile, new Date(d.clock.now()));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { profile };
  });

  router.post('/:appid/users/me/phone', session, usersRate, jsonInput(8 * 1024), async (ctx) => {
    const body = parseBody(ctx, phoneBody);
    const tenant = tenantOf(ctx);
    const { openid } = sessionUser(ctx);
    const phone =
      body.code !== undefined
        ? await getPhoneNumber(d.clients.for(tenant), body.code)
        : phoneFrom(decryptUserData(await d.users.sessionKey(tenant.appid, openid), body.encryptedData ?? '', body.iv ?? '', tenant.appid));
    await d.users.setPhone(tenant.appid, openid, phone, new Date(d.clock.now()));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { phone };
  });

  return router;
}
