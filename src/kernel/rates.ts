/**
 * Request rates as operators write them: `"20/s"`, `"600/min"`, `"10000/h"`, or `"off"`. Pure; the
 * env table (config.ts) and the tenant file's `limits` section share this one reading.
 */
export interface Rate {
  /** Requests allowed per window. */
  readonly points: number;
  /** Window length in seconds (a fixed window). */
  readonly durationS: number;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, sec: 1, min: 60, m: 60, h: 3600, hour: 3600 };

/** The most requests one window may allow (a bigger number is surely a typo). */
export const MAX_RATE_POINTS = 1_000_000_000;

/** What a rate setting must look like, for error messages. */
export const RATE_FORMAT = 'a rate like "20/s", "600/min" or "10000/h" (1 to 1000000000 per s, min or h), or "off"';

const RATE = /^([1-9]\d{0,9})\/(s|sec|min|m|h|hour)$/;

/** `null` for `"off"`, the rate otherwise; `undefined` if the text is not a rate. */
export function parseRate(text: string): Rate | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'off') return null;
  const m = RATE.exec(t.replace(/\s+/g, ''));
  if (!m) return undefined;
  const points = Number(m[1]);
  if (points > MAX_RATE_POINTS) return undefined;
  return { points, durationS: UNITS[m[2]!]! };
}

/** The rate as written back for humans: `20/s`, `600/min`, `10000/h`. */
export function formatRate(rate: Rate | null): string {
  if (rate === null) return 'off';
  const unit = rate.durationS === 1 ? 's' : rate.durationS === 60 ? 'min' : rate.durationS === 3600 ? 'h' : `${rate.durationS}s`;
  return `${rate.points}/${unit}`;
}
