/**
 * Access tokens, classic (/cgi-bin/token), stable (/cgi-bin/stable_token) and authorizer tokens
 * (third-party platforms calling for an authorized mini program). The kinds never affect each other.
 *
 * Classic: every issue creates a new token; the previous one keeps working for 5 more minutes
 * (then 40001), every token dies at its expiry (42001). Issues count against a daily quota (45009).
 *
 * Stable: normal mode returns the same token while it has more than 5 minutes left, then issues a
 * new one while the old one keeps working until its own expiry. force_refresh issues a new token and
 * kills the previous stable tokens at once; at most 20 per UTC day (45009) and 30 s apart (45011).
 *
 * Authorizer: one series per (authorizer appid, component appid); a new one supersedes the previous one
 * of the same series like classic tokens do (5 more minutes). They are accepted by every API like the app's own.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../kernel/clock';
import { DailyQuota } from './daily-quota';
import { DAY, MINUTE, SECOND, utcDay } from './time';
import { WxError } from './wx-errors';

export type TokenKind = 'classic' | 'stable' | 'authorizer';

export interface IssuedToken {
  access_token: string;
  expires_in: number;
}

export type TokenCheck = { ok: true; appid: string; kind: TokenKind; componentAppid?: string } | { ok: false; errcode: 40001 | 42001; appid?: string };

interface TokenRecord {
  readonly token: string;
  readonly appid: string;
  readonly kind: TokenKind;
  /** Authorizer tokens: the third-party platform that holds it. */
  readonly componentAppid?: string;
  readonly expiresAt: number;
  /** Set when a newer classic token superseded this one: dead (40001) from this time on. */
  graceUntil?: number;
  killed: boolean;
}

interface AppTokens {
  classic?: TokenRecord;
  stable?: TokenRecord;
  /** component appid -> current authorizer token */
  authorizer: Map<string, TokenRecord>;
  all: TokenRecord[];
  forceDay: number;
  forceCount: number;
  lastForceAt?: number;
}

/** How long a superseded classic token keeps working, and how early a stable token is renewed. */
export const HANDOVER_MS = 5 * MINUTE;
export const STABLE_FORCE_DAILY_LIMIT = 20;
export const STABLE_FORCE_MIN_INTERVAL_MS = 30 * SECOND;
/** Records this long past their expiry are forgotten (a forgotten token answers 40001). */
const FORGET_AFTER_MS = DAY;

export interface TokenStoreOptions {
  clock: Clock;
  ttlSeconds: number;
  dailyClassicQuota: number;
}

export class TokenStore {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly classicQuota: DailyQuota;
  private readonly byToken = new Map<string, TokenRecord>();
  private readonly byApp = new Map<string, AppTokens>();

  constructor(opts: TokenStoreOptions) {
    if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds < 1) throw new TypeError('ttlSeconds must be an integer >= 1');
    if (!Number.isInteger(opts.dailyClassicQuota) || opts.dailyClassicQuota < 0) {
      throw new TypeError('dailyClassicQuota must be an integer >= 0');
    }
    this.clock = opts.clock;
    this.ttlMs = opts.ttlSeconds * SECOND;
    this.classicQuota = new DailyQuota(opts.clock, opts.dailyClassicQuota);
  }

  /** /cgi-bin/token for an already verified appid. Throws WxError 45009 when today's quota is spent. */
  issueClassic(appid: string): IssuedToken {
    if (!this.classicQuota.tryTake(appid)) throw new WxError(45009);
    return this.newClassic(appid);
  }

  /** Like issueClassic but without quota: another system fetching a token. */
  rotateClassic(appid: string): IssuedToken {
    return this.newClassic(appid);
  }

  classicIssuedToday(appid: string): number {
    return this.classicQuota.usedToday(appid);
  }

  /** /cgi-bin/stable_token for an already verified appid. */
  stable(appid: string, forceRefresh: boolean): IssuedToken {
    const now = this.clock.now();
    const app = this.app(appid);
    if (forceRefresh) {
      const today = utcDay(now);
      if (app.forceDay !== today) {
        app.forceDay = today;
        app.forceCount = 0;
      }
      if (app.forceCount >= STABLE_FORCE_DAILY_LIMIT) throw new WxError(45009);
      if (app.lastForceAt !== undefined && now - app.lastForceAt < STABLE_FORCE_MIN_INTERVAL_MS) {
        throw new WxError(45011);
      }
      app.forceCount += 1;
      app.lastForceAt = now;
      for (const r of app.all) if (r.kind === 'stable') r.killed = true;
      return this.issue(app, appid, 'stable');
    }
    const cur = app.stable;
    if (cur && !cur.killed && cur.expiresAt - now > HANDOVER_MS) {
      return { access_token: cur.token, expires_in: Math.floor((cur.expiresAt - now) / SECOND) };
    }
    // None yet, dead, or in its last 5 minutes: a new one; the old one lives until its own expiry.
    return this.issue(app, appid, 'stable');
  }

  /** An authorizer token of `appid` for a third-party platform; the platform's previous one for it lives 5 more minutes. */
  issueAuthorizer(appid: string, componentAppid: string): IssuedToken {
    const app = this.app(appid);
    const prev = app.authorizer.get(componentAppid);
    if (prev && !prev.killed && prev.graceUntil === undefined) prev.graceUntil = this.clock.now() + HANDOVER_MS;
    return this.issue(app, appid, 'authorizer', componentAppid);
  }

  /** Kills every authorizer token a platform holds for `appid` (the app's own tokens stay). */
  revokeAuthorizer(appid: string, componentAppid: string): void {
    const app = this.byApp.get(appid);
    if (!app) return;
    for (const r of app.all) if (r.kind === 'authorizer' && r.componentAppid === componentAppid) r.killed = true;
    app.authorizer.delete(componentAppid);
  }

  /** Kills every current token (classic, stable and authorizer) of the appid. */
  revoke(appid: string): void {
    const app = this.byApp.get(appid);
    if (!app) return;
    for (const r of app.all) r.killed = true;
    app.classic = undefined;
    app.stable = undefined;
    app.authorizer.clear();
  }

  /** The appid a token was issued to (even if it is no longer valid), or undefined. */
  ownerOf(token: string): string | undefined {
    return this.byToken.get(token)?.appid;
  }

  /** 40001 unknown / killed / superseded beyond the grace period; 42001 expired; else ok. */
  check(token: string): TokenCheck {
    const r = this.byToken.get(token);
    if (!r) return { ok: false, errcode: 40001 };
    const now = this.clock.now();
    if (r.killed) return { ok: false, errcode: 40001, appid: r.appid };
    if (r.graceUntil !== undefined && now >= r.graceUntil) return { ok: false, errcode: 40001, appid: r.appid };
    if (now >= r.expiresAt) return { ok: false, errcode: 42001, appid: r.appid };
    return r.componentAppid === undefined ? { ok: true, appid: r.appid, kind: r.kind } : { ok: true, appid: r.appid, kind: r.kind, componentAppid: r.componentAppid };
  }

  private newClassic(appid: string): IssuedToken {
    const app = this.app(appid);
    const prev = app.classic;
    const now = this.clock.now();
    if (prev && !prev.killed && prev.graceUntil === undefined) prev.graceUntil = now + HANDOVER_MS;
    return this.issue(app, appid, 'classic');
  }

  private issue(app: AppTokens, appid: string, kind: TokenKind, componentAppid?: string): IssuedToken {
    const now = this.clock.now();
    this.forgetOld(app, now);
    const rec: TokenRecord = { token: newToken(), appid, kind, ...(componentAppid === undefined ? {} : { componentAppid }), expiresAt: now + this.ttlMs, killed: false };
    this.byToken.set(rec.token, rec);
    app.all.push(rec);
    if (kind === 'classic') app.classic = rec;
    else if (kind === 'stable') app.stable = rec;
    else if (componentAppid !== undefined) app.authorizer.set(componentAppid, rec);
    return { access_token: rec.token, expires_in: Math.floor(this.ttlMs / SECOND) };
  }

  private forgetOld(app: AppTokens, now: number): void {
    const keep: TokenRecord[] = [];
    for (const r of app.all) {
      if (now - r.expiresAt > FORGET_AFTER_MS) this.byToken.delete(r.token);
      else keep.push(r);
    }
    app.all = keep;
  }

  private app(appid: string): AppTokens {
    let a = this.byApp.get(appid);
    if (!a) {
      a = { all: [], authorizer: new Map(), forceDay: -1, forceCount: 0 };
      this.byApp.set(appid, a);
    }
    return a;
  }
}

/** Opaque token text with the length and alphabet of real ones (~136 chars of [A-Za-z0-9_-]). */
function newToken(): string {
  return `SBX_${randomBytes(99).toString('base64url')}`;
}
