/**
 * Pre-authorization codes (api_create_preauthcode, 30 minutes). componentloginpage remembers the redirect_uri a
 * code was opened with; authorize consumes the code.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../kernel/clock';
import { MINUTE } from '../time';

export const PRE_AUTH_CODE_TTL_MS = 30 * MINUTE;

interface PreAuthCode {
  componentAppid: string;
  expiresAt: number;
  used: boolean;
  redirectUri?: string;
}

export type PreAuthLookup = { ok: true; redirectUri?: string } | { ok: false; reason: string };

export class PreAuthCodes {
  private readonly codes = new Map<string, PreAuthCode>();

  constructor(private readonly clock: Clock) {}

  issue(componentAppid: string): { pre_auth_code: string; expires_in: number } {
    const now = this.clock.now();
    for (const [c, rec] of this.codes) if (now - rec.expiresAt > PRE_AUTH_CODE_TTL_MS) this.codes.delete(c);
    const code = `preauthcode@@@${randomBytes(36).toString('base64url')}`;
    this.codes.set(code, { componentAppid, expiresAt: now + PRE_AUTH_CODE_TTL_MS, used: false });
    return { pre_auth_code: code, expires_in: PRE_AUTH_CODE_TTL_MS / 1000 };
  }

  /** A usable code of this platform, or why not. */
  lookup(componentAppid: string, code: string): PreAuthLookup {
    const rec = this.codes.get(code);
    if (!rec || rec.componentAppid !== componentAppid) return { ok: false, reason: 'unknown pre_auth_code' };
    if (rec.used) return { ok: false, reason: 'pre_auth_code already used' };
    if (this.clock.now() >= rec.expiresAt) return { ok: false, reason: 'pre_auth_code expired' };
    return rec.redirectUri === undefined ? { ok: true } : { ok: true, redirectUri: rec.redirectUri };
  }

  /** The authorization page was opened with this code and redirect_uri. */
  open(componentAppid: string, code: string, redirectUri: string): PreAuthLookup {
    const l = this.lookup(componentAppid, code);
    if (l.ok) (this.codes.get(code) as PreAuthCode).redirectUri = redirectUri;
    return l.ok ? { ok: true, redirectUri } : l;
  }

  /** Consumes a code; TypeError when it is not usable. Returns the redirect_uri it was opened with, if any. */
  consume(componentAppid: string, code: string): string | undefined {
    const l = this.lookup(componentAppid, code);
    if (!l.ok) throw new TypeError(l.reason);
    (this.codes.get(code) as PreAuthCode).used = true;
    return l.redirectUri;
  }
}
