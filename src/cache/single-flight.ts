/**
 * At most one in-flight load per key in this process: concurrent callers share the promise.
 * `forget` detaches a key so a load that started before an invalidation cannot be joined by callers
 * that arrive after it.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const p = load().finally(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    this.inflight.set(key, p);
    return p;
  }

  forget(key: string): void {
    this.inflight.delete(key);
  }

  get size(): number {
    return this.inflight.size;
  }
}
