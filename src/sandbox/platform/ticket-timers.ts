/** Real-time timers that push component_verify_tickets periodically; unref'd, so they never keep a process alive. */

export class TicketTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  start(componentAppid: string, intervalMs: number, tick: () => void): void {
    if (!Number.isInteger(intervalMs) || intervalMs < 10) throw new TypeError('ticketIntervalMs must be an integer >= 10');
    this.stop(componentAppid);
    const t = setInterval(tick, intervalMs);
    t.unref();
    this.timers.set(componentAppid, t);
  }

  stop(componentAppid: string): void {
    const t = this.timers.get(componentAppid);
    if (t) clearInterval(t);
    this.timers.delete(componentAppid);
  }

  stopAll(): void {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
  }
}
