/** `sandbox.platform`: the programmatic face of the sandbox's third-party platforms (what WeChat and mini program admins do). */
import { randomBytes } from 'node:crypto';
import type { TokenStore } from '../tokens';
import { unixSeconds } from '../time';
import { AUTH_CODE_TTL_MS, checkFuncIds, type Authorization } from './authorizations';
import type { PlatformState } from './platform-state';
import type { Platform } from './registry';
import type { AuthorizerView, AuthorizeResult, PlatformApi, PlatformInfoType, TicketResult } from './types';

function withAuthCode(redirectUri: string, code: string): string {
  const sep = redirectUri.includes('?') ? '&' : '?';
  return `${redirectUri}${sep}auth_code=${encodeURIComponent(code)}&expires_in=${AUTH_CODE_TTL_MS / 1000}`;
}

function view(a: Authorization): AuthorizerView {
  return { authorizerAppid: a.authorizerAppid, refreshToken: a.refreshToken, funcIds: [...a.funcIds], authTime: a.authTime };
}

export function createPlatformApi(ps: PlatformState, tokens: TokenStore): PlatformApi {
  const { registry, tickets, preAuth, authorizations, events, timers } = ps;

  const sendTicket = async (componentAppid: string): Promise<TicketResult> => {
    const p = registry.require(componentAppid);
    const ticket = tickets.issue(componentAppid);
    const e = await events.send(p, 'component_verify_ticket', { ComponentVerifyTicket: ticket });
    return { ticket, status: e.status, body: e.responseBody };
  };

  const startTickets = (componentAppid: string, intervalMs: number): void => {
    registry.require(componentAppid);
    timers.start(componentAppid, intervalMs, () => {
      sendTicket(componentAppid).catch(() => undefined);
    });
  };

  /** Issues the authorization code and posts the (update)authorized event. */
  const grant = async (
    p: Platform,
    infoType: PlatformInfoType,
    authorizerAppid: string,
    preAuthCode: string,
    funcIds: readonly number[] | undefined,
    redirectUri: string | undefined,
  ): Promise<AuthorizeResult> => {
    const issued = authorizations.grant(p.componentAppid, authorizerAppid, funcIds);
    const event = await events.send(
      p,
      infoType,
      { AuthorizerAppid: authorizerAppid, AuthorizationCode: issued.code, AuthorizationCodeExpiredTime: unixSeconds(issued.expiresAt), PreAuthCode: preAuthCode },
      authorizerAppid,
    );
    return { authCode: issued.code, redirect: redirectUri === undefined ? null : withAuthCode(redirectUri, issued.code), event };
  };

  return {
    registerPlatform: (reg) => {
      if (reg.ticketIntervalMs !== undefined && (!Number.isInteger(reg.ticketIntervalMs) || reg.ticketIntervalMs < 10)) {
        throw new TypeError('ticketIntervalMs must be an integer >= 10');
      }
      registry.register(reg);
      if (reg.ticketIntervalMs === undefined) timers.stop(reg.componentAppid);
      else startTickets(reg.componentAppid, reg.ticketIntervalMs);
    },
    exists: (c) => registry.get(c) !== undefined,
    setEventUrl: (c, url) => registry.setEventUrl(c, url),
    setRotateRefreshTokens: (c, rotate) => registry.setRotateRefreshTokens(c, rotate),
    sendTicket,
    currentTicket: (c) => tickets.current(c),
    startTickets,
    stopTickets: (c) => timers.stop(c),
    close: () => timers.stopAll(),

    authorize: async (o) => {
      const p = registry.require(o.componentAppid);
      const l = preAuth.lookup(p.componentAppid, o.preAuthCode);
      if (!l.ok) throw new TypeError(l.reason);
      if (typeof o.authorizerAppid !== 'string' || o.authorizerAppid === '') throw new TypeError('authorizerAppid must be a non-empty string');
      if (o.funcIds !== undefined) checkFuncIds(o.funcIds);
      const redirectUri = preAuth.consume(p.componentAppid, o.preAuthCode);
      return grant(p, 'authorized', o.authorizerAppid, o.preAuthCode, o.funcIds, redirectUri);
    },

    updateAuthorization: async (o) => {
      const p = registry.require(o.componentAppid);
      const cur = authorizations.get(p.componentAppid, o.authorizerAppid);
      if (!cur) throw new TypeError(`${o.authorizerAppid} has not authorized ${o.componentAppid}`);
      let redirectUri: string | undefined;
      let code = o.preAuthCode;
      if (code === undefined) code = `preauthcode@@@${randomBytes(36).toString('base64url')}`;
      else redirectUri = preAuth.consume(p.componentAppid, code);
      return grant(p, 'updateauthorized', o.authorizerAppid, code, o.funcIds ?? cur.funcIds, redirectUri);
    },

    unauthorize: async (componentAppid, authorizerAppid) => {
      const p = registry.require(componentAppid);
      if (!authorizations.remove(componentAppid, authorizerAppid)) throw new TypeError(`${authorizerAppid} has not authorized ${componentAppid}`);
      tokens.revokeAuthorizer(authorizerAppid, componentAppid);
      return events.send(p, 'unauthorized', { AuthorizerAppid: authorizerAppid }, authorizerAppid);
    },

    revokeRefreshToken: (componentAppid, authorizerAppid) => {
      registry.require(componentAppid);
      return authorizations.replaceRefreshToken(componentAppid, authorizerAppid);
    },

    authorizers: (c) => authorizations.list(c).map(view),

    events: () => events.list(),
    clearEvents: () => events.clear(),
  };
}
