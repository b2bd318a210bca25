import type { InvalidationBus } from '../cache/invalidation-bus';
import type { Clock } from '../kernel/clock';
import type { PlatformKeyring, PlatformPushKeys } from '../contracts/platform-keys';
import type { Platform } from './platform';
import type { PlatformStore } from './platform-store';

const TTL_MS = 60_000;

/** Platforms as gateways see them: read on first use, kept a minute, dropped fleet-wide when the CLI changes one. */
export class PlatformDirectory implements PlatformKeyring {
  private readonly cache = new Map<string, { platform: Platform | null; at: number }>();

  constructor(
    private readonly store: PlatformStore,
    private readonly clock: Clock,
    bus: InvalidationBus,
  ) {
    bus.on('platform', (m) => this.cache.delete(m.appid));
  }

  async find(componentAppid: string): Promise<Platform | null> {
    const hit = this.cache.get(componentAppid);
    if (hit && this.clock.now() - hit.at < TTL_MS) return hit.platform;
    const platform = await this.store.find(componentAppid);
    this.cache.set(componentAppid, { platform, at: this.clock.now() });
    return platform;
  }

  async pushKeys(componentAppid: string): Promise<PlatformPushKeys | null> {
    const p = await this.find(componentAppid);
    return p ? { token: p.token, aesKey: p.aesKey } : null;
  }
}
