import { LRUCache } from 'lru-cache';
import type { Redis } from '../infra/redis';
import { luaScript, runScript } from '../infra/lua-script';
import { redisKeys } from '../infra/redis-keys';
import type { Logger } from '../kernel/log';
import { SingleFlight } from '../cache/single-flight';
import type { InvalidationBus } from '../cache/invalidation-bus';
import type { TenantRepository } from './tenant-repository';
import type { TenantDoc } from './tenant-model';
import type { Tenant } from './tenant';

export const tenantCacheKey = redisKeys.tenant;
export const tenantGenKey = redisKeys.tenantGen;

const L2_TTL_S = 300;
const NEGATIVE_TTL_S = 5;

/**
 * Stores the L2 copy only if nobody changed the tenant since we read the generation; otherwise a
 * slow reader could put back a copy older than the change that just evicted it.
 */
const SET_IF_GEN = `
local cur = redis.call('GET', KEYS[2]) or '0'
if cur == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end
return 0`;
const SET_IF_GEN_SCRIPT = luaScript(SET_IF_GEN);

type L1Entry = { tenant: Tenant } | { missing: true };

export interface TenantCacheOptions {
  /** TENANT_CACHE_TTL_S: how long a tenant is kept at most (invalidations drop it sooner). */
  ttlSeconds: number;
  /** TENANT_CACHE_MAX: most tenants kept; the least recently used is dropped first. */
  maxEntries: number;
}

/**
 * appid -> tenant through an LRU of decrypted tenants (L1, bounded by count: a gateway that served
 * 100 000 distinct tenants holds at most TENANT_CACHE_MAX of them), Redis (L2, sealed document: no
 * plaintext secret ever leaves the process) and MongoDB, with one in-flight load per appid. Redis
 * failures degrade to MongoDB reads; they never fail the request. Whatever else is kept per tenant
 * object (its WeChat client, its token source) is in WeakMaps, so it goes with the evicted tenant.
 */
export class TenantResolver {
  private readonly l1: LRUCache<string, L1Entry>;
  private readonly flight = new SingleFlight<Tenant | null>();
  /** Invalidations seen per appid while loads of it are in flight (only then: bounded by loads, not tenants). */
  private readonly loading = new Map<string, { gen: number; loads: number }>();

  constructor(
    private readonly repo: TenantRepository,
    private readonly redis: Redis,
    bus: InvalidationBus,
    private readonly log: Logger,
    opts: TenantCacheOptions,
  ) {
    // Expired entries are dropped when met (a get) or when the LRU needs the room: no timer.
    this.l1 = new LRUCache<string, L1Entry>({ max: opts.maxEntries, ttl: opts.ttlSeconds * 1000, ttlAutopurge: false });
    bus.on('tenant', (m) => {
      if (m.appids) for (const a of m.appids) this.evictLocal(a);
      else this.evictLocal(m.appid);
    });
  }

  async resolve(appid: string): Promise<Tenant | null> {
    const hit = this.cached(appid);
    if (hit !== undefined) return hit;
    return this.flight.run(appid, () => this.load(appid));
  }

  /** What resolve would answer from this instance's memory alone: undefined when it would have to load. */
  cached(appid: string): Tenant | null | undefined {
    const hit = this.l1.get(appid);
    return hit ? ('tenant' in hit ? hit.tenant : null) : undefined;
  }

  evictLocal(appid: string): void {
    this.l1.delete(appid);
    this.flight.forget(appid);
    const l = this.loading.get(appid);
    if (l) l.gen++;
  }

  /** How many tenants (and known-absent appids) this instance holds: at most TENANT_CACHE_MAX. */
  get size(): number {
    return this.l1.size;
  }

  close(): void {
    this.l1.clear();
  }

  private async load(appid: string): Promise<Tenant | null> {
    let l = this.loading.get(appid);
    if (!l) this.loading.set(appid, (l = { gen: 0, loads: 0 }));
    l.loads++;
    const startGen = l.gen;
    try {
      const tenant = await this.read(appid);
      // An invalidation arrived while we were loading: answer this caller, but don't cache.
      if (l.gen === startGen) {
        if (tenant) this.l1.set(appid, { tenant });
        else this.l1.set(appid, { missing: true }, { ttl: NEGATIVE_TTL_S * 1000 });
      }
      return tenant;
    } finally {
      if (--l.loads === 0) this.loading.delete(appid);
    }
  }

  private async read(appid: string): Promise<Tenant | null> {
    let doc: TenantDoc | null = null;
    let redisGen: string | null = null;
    let fromL2 = false;
    try {
      const [cached, gen] = await this.redis.mget(tenantCacheKey(appid), tenantGenKey(appid));
      redisGen = gen ?? '0';
      if (cached) {
        doc = JSON.parse(cached) as TenantDoc;
        fromL2 = true;
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message, appid }, 'tenant L2 read failed; using MongoDB');
    }
    if (!doc) doc = await this.repo.findDoc(appid);
    if (doc && !fromL2 && redisGen !== null) {
      await runScript(this.redis, SET_IF_GEN_SCRIPT, [tenantCacheKey(appid), tenantGenKey(appid)], [redisGen, JSON.stringify(doc), String(L2_TTL_S)]).catch(() => undefined);
    }
    return doc ? this.repo.open(doc) : null;
  }
}

/**
 * Called by whoever changed a tenant (the CLI, the admin API): bump the generation, drop the L2
 * copy, and tell every instance to drop its L1 copy.
 */
export async function announceTenantChange(redis: Redis, publish: (appid: string) => Promise<void>, appid: string): Promise<void> {
  await redis.multi().incr(tenantGenKey(appid)).del(tenantCacheKey(appid)).exec();
  await publish(appid);
}

/** Appids per invalidation message of a bulk change (about 20 KB each). */
export const ANNOUNCE_CHUNK = 1000;
/** MULTIs sent before waiting for their replies: enough to fill the pipe, few enough that a busy machine answers them within the command timeout. */
const ANNOUNCE_IN_FLIGHT = 200;

/**
 * The bulk form of announceTenantChange (a bulk apply): generations bumped and L2 copies dropped
 * with the commands of a chunk in flight together (one MULTI per tenant, so each keeps its keys in
 * one slot), then one message per chunk of appids instead of one per tenant.
 */
export async function announceTenantChanges(redis: Redis, publish: (appids: string[]) => Promise<void>, appids: readonly string[]): Promise<void> {
  for (let i = 0; i < appids.length; i += ANNOUNCE_CHUNK) {
    const chunk = appids.slice(i, i + ANNOUNCE_CHUNK);
    for (let j = 0; j < chunk.length; j += ANNOUNCE_IN_FLIGHT) {
      await Promise.all(chunk.slice(j, j + ANNOUNCE_IN_FLIGHT).map((appid) => redis.multi().incr(tenantGenKey(appid)).del(tenantCacheKey(appid)).exec()));
    }
    await publish(chunk);
  }
}
