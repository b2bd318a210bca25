import type { Logger } from '../kernel/log';
import type { StoreName } from './store-errors';

/**
 * Whether a store is in an outage, logged once per transition: one line when the first failure is
 * reported (by a request or by the driver's monitor), one when a probe answers again. Requests that
 * fail during the outage are answered 503 without a log line of their own, so an outage under load
 * does not turn into thousands of stack traces.
 */
export class StoreOutage {
  private downSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly store: StoreName,
    private readonly log: Logger,
    /** Resolves when the store answers; rejects (or hangs until its own bound) otherwise. */
    private readonly probe: () => Promise<void>,
    private readonly probeEveryMs = 500,
  ) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Something failed against the store; the first report of an outage logs it and starts probing. */
  failed(reason: string): void {
    if (this.downSince !== undefined || this.closed) return;
    this.downSince = Date.now();
    this.log.error({ store: this.store, reason }, `${this.store} unavailable`);
    this.scheduleProbe();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private scheduleProbe(): void {
    this.timer = setTimeout(() => void this.check(), this.probeEveryMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    try {
      await this.probe();
    } catch {
      if (!this.closed) this.scheduleProbe();
      return;
    }
    const downMs = Date.now() - (this.downSince ?? Date.now());
    this.downSince = undefined;
    if (!this.closed) this.log.warn({ store: this.store, downMs }, `${this.store} restored`);
  }
}
