/**
 * Authorizations of mini programs to platforms: granted permission sets, the one working refresh token of each, and
 * the single-use authorization codes (1 hour) api_query_auth redeems.
 *
 * Errors of the WeChat endpoints: 61009 unknown code (or another platform's), 61010 code used or expired, 61003 the
 * mini program has not authorized the platform, 61023 not its current refresh token.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../kernel/clock';
import { HOUR } from '../time';
import { WxError } from '../wx-errors';

export const AUTH_CODE_TTL_MS = HOUR;
/** Permission sets granted when authorize is not given any. */
export const DEFAULT_FUNC_IDS: readonly number[] = [17, 18, 19, 25, 30, 31, 36, 37, 40, 48, 49];

export interface Authorization {
  readonly componentAppid: string;
  readonly authorizerAppid: string;
  funcIds: number[];
  authTime: number;
  refreshToken: string;
}

interface AuthCode {
  componentAppid: string;
  authorizerAppid: string;
  expiresAt: number;
  used: boolean;
}

export interface IssuedAuthCode {
  code: string;
  expiresAt: number;
}

function key(componentAppid: string, authorizerAppid: string): string {
  return `${componentAppid}\n${authorizerAppid}`;
}

function newRefreshToken(): string {
  return `refreshtoken@@@${randomBytes(32).toString('base64url')}`;
}

export function checkFuncIds(ids: number[]): number[] {
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((n) => Number.isInteger(n) && n > 0)) throw new TypeError('funcIds must be positive integers');
  return [...new Set(ids)];
}

export class AuthorizationBook {
  private readonly auths = new Map<string, Authorization>();
  private readonly codes = new Map<string, AuthCode>();

  constructor(private readonly clock: Clock) {}

  /** A new or renewed authorization (its refresh token is kept when there is one) and a fresh authorization code. */
  grant(componentAppid: string, authorizerAppid: string, funcIds: readonly number[] = DEFAULT_FUNC_IDS): IssuedAuthCode {
    if (typeof authorizerAppid !== 'string' || authorizerAppid === '') throw new TypeError('authorizerAppid must be a non-empty string');
    const ids = checkFuncIds([...funcIds]);
    const now = this.clock.now();
    const k = key(componentAppid, authorizerAppid);
    const cur = this.auths.get(k);
    if (cur) {
      cur.funcIds = ids;
      cur.authTime = now;
    } else {
      this.auths.set(k, { componentAppid, authorizerAppid, funcIds: ids, authTime: now, refreshToken: newRefreshToken() });
    }
    return this.newCode(componentAppid, authorizerAppid, now);
  }

  get(componentAppid: string, authorizerAppid: string): Authorization | undefined {
    return this.auths.get(key(componentAppid, authorizerAppid));
  }

  /** True when any platform holds an authorization of the appid. */
  isAuthorizer(appid: string): boolean {
    for (const a of this.auths.values()) if (a.authorizerAppid === appid) return true;
    return false;
  }

  /** api_query_auth: redeems a code once. */
  redeem(componentAppid: string, code: unknown): Authorization {
    const c = typeof code === 'string' ? this.codes.get(code) : undefined;
    if (!c || c.componentAppid !== componentAppid) throw new WxError(61009);
    if (c.used || this.clock.now() >= c.expiresAt) throw new WxError(61010);
    const a = this.auths.get(key(c.componentAppid, c.authorizerAppid));
    if (!a) throw new WxError(61009);
    c.used = true;
    return a;
  }

  /** api_authorizer_token: the refresh token to answer with (a new one when rotating; the old one then dies). */
  refresh(componentAppid: string, authorizerAppid: unknown, refreshToken: unknown, rotate: boolean): Authorization {
    const a = typeof authorizerAppid === 'string' ? this.auths.get(key(componentAppid, authorizerAppid)) : undefined;
    if (!a) throw new WxError(61003);
    if (typeof refreshToken !== 'string' || refreshToken !== a.refreshToken) throw new WxError(61023);
    if (rotate) a.refreshToken = newRefreshToken();
    return a;
  }

  /** The current refresh token dies; the authorization gets a new one (returned). */
  replaceRefreshToken(componentAppid: string, authorizerAppid: string): string {
    const a = this.auths.get(key(componentAppid, authorizerAppid));
    if (!a) throw new TypeError(`${authorizerAppid} has not authorized ${componentAppid}`);
    a.refreshToken = newRefreshToken();
    return a.refreshToken;
  }

  /** Ends an authorization with its refresh token and unredeemed codes; false when there was none. */
  remove(componentAppid: string, authorizerAppid: string): boolean {
    for (const [c, rec] of this.codes) if (rec.componentAppid === componentAppid && rec.authorizerAppid === authorizerAppid) this.codes.delete(c);
    return this.auths.delete(key(componentAppid, authorizerAppid));
  }

  /** A platform's authorizations, oldest authorization first. */
  list(componentAppid: string): Authorization[] {
    return [...this.auths.values()].filter((a) => a.componentAppid === componentAppid).sort((x, y) => x.authTime - y.authTime);
  }

  private newCode(componentAppid: string, authorizerAppid: string, now: number): IssuedAuthCode {
    for (const [c, rec] of this.codes) if (now - rec.expiresAt > AUTH_CODE_TTL_MS) this.codes.delete(c);
    const code = `queryauthcode@@@${randomBytes(36).toString('base64url')}`;
    const expiresAt = now + AUTH_CODE_TTL_MS;
    this.codes.set(code, { componentAppid, authorizerAppid, expiresAt, used: false });
    return { code, expiresAt };
  }
}
