/** Time helpers shared by the sandbox stores. All times are clock milliseconds. */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Index of the UTC day containing `ms` (days since the epoch). */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY);
}

/** Unix seconds, as WeChat puts them in `created_at`, watermarks, etc. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / SECOND);
}
