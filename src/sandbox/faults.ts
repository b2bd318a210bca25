/** Injected faults: the next N calls matching (endpoint, appid) are delayed and/or answer an errcode. */

export interface SandboxFault {
  /** Endpoint path, e.g. '/cgi-bin/token'; omitted -> any endpoint (admin routes are never faulted). */
  endpoint?: string;
  /** Appid the call is attributed to; omitted -> any appid. */
  appid?: string;
  /** Answer this errcode instead of handling the call. */
  errcode?: number;
  /** Text of the errmsg (a ` rid: ...` suffix is appended); default: WeChat's text for the errcode. */
  errmsg?: string;
  /** Wait this long (real time) before answering or handling. */
  delayMs?: number;
  /** How many matching calls this fault applies to (>= 1). */
  times: number;
}

export class FaultInjector {
  private readonly pending: SandboxFault[] = [];

  add(f: SandboxFault): void {
    if (!Number.isInteger(f.times) || f.times < 1) throw new TypeError('times must be an integer >= 1');
    if (f.errcode === undefined && f.delayMs === undefined) throw new TypeError('a fault needs errcode and/or delayMs');
    if (f.errcode !== undefined && !Number.isInteger(f.errcode)) throw new TypeError('errcode must be an integer');
    if (f.delayMs !== undefined && (!Number.isFinite(f.delayMs) || f.delayMs < 0)) {
      throw new TypeError('delayMs must be a number >= 0');
    }
    this.pending.push({ ...f });
  }

  /**
   * The first pending fault matching the call, with its `times` decremented (removed at zero);
   * undefined when none matches.
   */
  take(endpoint: string, appid: string): Readonly<SandboxFault> | undefined {
    const i = this.pending.findIndex((f) => (f.endpoint === undefined || f.endpoint === endpoint) && (f.appid === undefined || f.appid === appid));
    if (i < 0) return undefined;
    const f = this.pending[i];
    f.times -= 1;
    if (f.times <= 0) this.pending.splice(i, 1);
    return { ...f };
  }

  list(): SandboxFault[] {
    return this.pending.map((f) => ({ ...f }));
  }

  clear(): void {
    this.pending.length = 0;
  }
}
