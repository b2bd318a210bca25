/**
 * wx.login codes and session keys (/sns/jscode2session).
 *
 * Issued codes are single use and live 5 minutes of the clock. Codes `test:<name>` need no issue,
 * never expire and can be reused: each use is a login of openid `o_<appid>_<name>`. Every
 * successful login replaces the user's session key, like WeChat.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../kernel/clock';
import { MINUTE } from './time';
import { WxError } from './wx-errors';

export interface LoginCodeOptions {
  openid?: string;
  unionid?: string;
  /** Session key the login will install (base64 of 16 bytes); default: 16 random bytes. */
  sessionKey?: string;
  /** Answer this errcode (e.g. 40226, 45011) instead of logging in. */
  errcode?: number;
}

export interface SessionResult {
  openid: string;
  session_key: string;
  unionid?: string;
}

interface IssuedCode {
  appid: string;
  openid: string;
  unionid?: string;
  sessionKey: string;
  errcode?: number;
  expiresAt: number;
  used: boolean;
}

export const LOGIN_CODE_TTL_MS = 5 * MINUTE;
const TEST_CODE = /^test:([A-Za-z0-9_.-]{1,64})$/;

export function newSessionKey(): string {
  return randomBytes(16).toString('base64');
}

export class LoginService {
  private readonly codes = new Map<string, IssuedCode>();
  /** `${appid}\n${openid}` -> current session key */
  private readonly sessionKeys = new Map<string, string>();
  private readonly unionids = new Map<string, string>();
  private seq = 0;

  constructor(private readonly clock: Clock) {}

  issue(appid: string, opts: LoginCodeOptions = {}): string {
    this.seq += 1;
    const code = randomBytes(16).toString('hex');
    this.forgetExpired();
    this.codes.set(code, {
      appid,
      openid: opts.openid ?? `o_${appid}_u${this.seq}`,
      unionid: opts.unionid,
      sessionKey: opts.sessionKey ?? newSessionKey(),
      errcode: opts.errcode,
      expiresAt: this.clock.now() + LOGIN_CODE_TTL_MS,
      used: false,
    });
    return code;
  }

  /**
   * Exchanges a code of a verified appid. Errors: 40029 unknown, expired or other app's code;
   * 40163 already used; the code's own errcode when issued with one (such codes are not consumed).
   */
  exchange(appid: string, code: string): SessionResult {
    const test = TEST_CODE.exec(code);
    if (test) return this.login(appid, `o_${appid}_${test[1]}`, newSessionKey(), undefined);

    const c = this.codes.get(code);
    if (!c || c.appid !== appid || this.clock.now() >= c.expiresAt) throw new WxError(40029);
    if (c.used) throw new WxError(40163);
    if (c.errcode !== undefined) throw new WxError(c.errcode);
    c.used = true;
    return this.login(appid, c.openid, c.sessionKey, c.unionid);
  }

  sessionKeyOf(appid: string, openid: string): string | undefined {
    return this.sessionKeys.get(userKey(appid, openid));
  }

  private login(appid: string, openid: string, sessionKey: string, unionid: string | undefined): SessionResult {
    const k = userKey(appid, openid);
    this.sessionKeys.set(k, sessionKey);
    if (unionid !== undefined) this.unionids.set(k, unionid);
    const u = this.unionids.get(k);
    return u === undefined ? { openid, session_key: sessionKey } : { openid, session_key: sessionKey, unionid: u };
  }

  private forgetExpired(): void {
    const now = this.clock.now();
    for (const [code, c] of this.codes) if (now - c.expiresAt > LOGIN_CODE_TTL_MS) this.codes.delete(code);
  }
}

function userKey(appid: string, openid: string): string {
  return `${appid}\n${openid}`;
}
