/** A per-key counter that resets at each UTC day boundary of the injected clock. */
import type { Clock } from '../kernel/clock';
import { utcDay } from './time';

export class DailyQuota {
  private readonly used = new Map<string, { day: number; n: number }>();

  constructor(
    private readonly clock: Clock,
    readonly limit: number,
  ) {}

  /** Uses one unit for `key` today; false (and nothing used) when the limit is reached. */
  tryTake(key: string): boolean {
    const day = utcDay(this.clock.now());
    let e = this.used.get(key);
    if (!e || e.day !== day) {
      e = { day, n: 0 };
      this.used.set(key, e);
    }
    if (e.n >= this.limit) return false;
    e.n += 1;
    return true;
  }

  usedToday(key: string): number {
    const e = this.used.get(key);
    return e && e.day === utcDay(this.clock.now()) ? e.n : 0;
  }
}
