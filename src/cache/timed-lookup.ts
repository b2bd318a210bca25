import type { Clock } from '../kernel/clock';

/**
 * Values read from a store on first use and kept for `ttlMs` (absent ones too, so an unknown key
 * does not reach the store on every request); `drop` forgets one at once (the invalidation bus
 * calls it when the CLI changes it). For small, rarely changing sets: merchants, platforms.
 */
export class TimedLookup<T> {
  private readonly entries = new Map<string, { value: T | null; at: number }>();

  constructor(
    private readonly load: (key: string) => Promise<T | null>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string): Promise<T | null> {
    const hit = this.entries.get(key);
    if (hit && this.clock.now() - hit.at < this.ttlMs) return hit.value;
    const value = await this.load(key);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, at: this.clock.now() });
    return value;
  }

  drop(key: string): void {
    this.entries.delete(key);
  }
}
