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
  /**
   * For WeChat Pay /v3 endpoints: answer this HTTP status and `{code, message}` (signed like any answer). Without it,
   * an errcode faults a /v3 call as 500 SYSTEM_ERROR, or 429 FREQUENCY_LIMITED for quota errcodes (45xxx).
   */
  payError?: { status: number; code: string; message?: string };
  /** Wait this long (real time) before answering or handling. */
  delayMs?: number;
  /** How many matching calls this fault applies to (>= 1). */
  times: number;
}

export class FaultInjector {
  private readonly pending: SandboxFault[] = [];

  add(f: SandboxFault): void {
    if (!Number.isInteger(f.times) || f.times < 1) throw new TypeError('times must be an integer >= 1');
    if (f.errcode === undefined && f.delayMs === undefined && f.payError === undefined) throw new TypeError('a fault needs errcode, payError and/or delayMs');
    if (f.payError !== undefined && (!Number.isInteger(f.payError.status) || f.payError.status < 400 || f.payError.status > 599 || !f.payError.code)) {
      throw new TypeError('payError needs an HTTP error status (4xx/5xx) and a code');
    }
    if (f.errcode !== undefined && !Number.isInteger(f.errcode)) throw new TypeError('errcode must be an integer');
    if (f.delayMs !== undefined && (!Number.isFinite(f.delayMs) || f.delayMs < 0)) {
      throw new TypeError('delayMs must be a number >= 0');
    }
    this.pending.push({ ...f, ...(f.payError ? { payError: { ...f.payError } } : {}) });
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
