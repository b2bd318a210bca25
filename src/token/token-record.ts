/**
 * One access token as the fleet shares it. Times are milliseconds of the injected clock.
 * - refreshAt: `expires_in - 300 s` after issue. From here on the token is treated as expiring and
 *   is renewed; stable_token only hands out a new token in those last 5 minutes anyway.
 * - expiresAt: `expires_in - 60 s` after issue. Until here the old token is still served while the
 *   renewal runs, so callers do not wait for WeChat; after it, never (the minute covers clock skew
 *   and calls in flight).
 */
export interface TokenRecord {
  accessToken: string;
  expiresIn: number;
  issuedAt: number;
  refreshAt: number;
  expiresAt: number;
}

export const REFRESH_MARGIN_S = 300;
export const HARD_MARGIN_S = 60;

export function makeRecord(accessToken: string, expiresIn: number, now: number): TokenRecord {
  // A short-lived token (stable_token near its rotation) still gets a usable window, halved margins.
  const refreshMargin = Math.min(REFRESH_MARGIN_S, expiresIn / 2);
  const hardMargin = Math.min(HARD_MARGIN_S, expiresIn / 4);
  return {
    accessToken,
    expiresIn,
    issuedAt: now,
    refreshAt: now + (expiresIn - refreshMargin) * 1000,
    expiresAt: now + (expiresIn - hardMargin) * 1000,
  };
}

export const isUsable = (r: TokenRecord, now: number): boolean => now < r.expiresAt;
export const isFresh = (r: TokenRecord, now: number): boolean => now < r.refreshAt;

/** Seconds a consumer of the central token endpoint may keep the token. */
export function secondsLeft(r: TokenRecord, now: number): number {
  const until = now < r.refreshAt ? r.refreshAt : r.expiresAt;
  return Math.max(1, Math.floor((until - now) / 1000));
}

export function parseRecord(raw: string | null): TokenRecord | null {
  if (!raw) return null;
  try {
    const r = JSON.parse(raw) as Partial<TokenRecord>;
    if (typeof r.accessToken !== 'string' || typeof r.expiresAt !== 'number' || typeof r.refreshAt !== 'number') return null;
    return r as TokenRecord;
  } catch {
    return null;
  }
}
