import type { InvalidationBus } from '../cache/invalidation-bus';
import { TimedLookup } from '../cache/timed-lookup';
import type { Clock } from '../kernel/clock';
import type { PlatformKeyring, PlatformPushKeys } from '../contracts/platform-keys';
import type { Platform } from './platform';
import type { PlatformStore } from './platform-store';

const TTL_MS = 60_000;

/** Platforms as gateways see them: read on first use, kept a minute, dropped fleet-wide when the CLI changes one. */
export class PlatformDirectory implements PlatformKeyring {
  private readonly lookup: TimedLookup<Platform>;

  constructor(store: PlatformStore, clock: Clock, bus: InvalidationBus) {
    this.lookup = new TimedLookup((componentAppid) => store.find(componentAppid), clock, TTL_MS);
    bus.on('platform', (m) => this.lookup.drop(m.appid));
  }

  find(componentAppid: string): Promise<Platform | null> {
    return this.lookup.get(componentAppid);
  }

  async pushKeys(componentAppid: string): Promise<PlatformPushKeys | null> {
    const p = await this.find(componentAppid);
    return p ? { token: p.token, aesKey: p.aesKey } : null;
  }
}
