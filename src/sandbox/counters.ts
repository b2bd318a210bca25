/** Per-endpoint, per-appid call counters. */

export const UNKNOWN_APPID = 'unknown';

/** endpoint path -> appid -> number of calls */
export type CallCounts = Record<string, Record<string, number>>;

export class CallCounters {
  private readonly counts = new Map<string, Map<string, number>>();

  record(endpoint: string, appid: string): void {
    let byApp = this.counts.get(endpoint);
    if (!byApp) {
      byApp = new Map();
      this.counts.set(endpoint, byApp);
    }
    byApp.set(appid, (byApp.get(appid) ?? 0) + 1);
  }

  /** Calls of `endpoint` by `appid`, or by all appids (including `unknown`) when omitted. */
  count(endpoint: string, appid?: string): number {
    const byApp = this.counts.get(endpoint);
    if (!byApp) return 0;
    if (appid !== undefined) return byApp.get(appid) ?? 0;
    let sum = 0;
    for (const n of byApp.values()) sum += n;
    return sum;
  }

  snapshot(): CallCounts {
    const out: CallCounts = {};
    for (const [endpoint, byApp] of this.counts) out[endpoint] = Object.fromEntries(byApp);
    return out;
  }

  reset(): void {
    this.counts.clear();
  }
}
