import NodeCache from 'node-cache';
import type { Redis } from '../infra/redis';
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

type L1Entry = { tenant: Tenant } | { missing: true };

/**
 * appid -> tenant through node-cache (L1, decrypted), Redis (L2, sealed document: no plaintext
 * secret ever leaves the process) and MongoDB, with one in-flight load per appid. Redis failures
 * degrade to MongoDB reads; they never fail the request.
 */
export class TenantResolver {
  private readonly l1: NodeCache;
  private readonly flight = new SingleFlight<Tenant | null>();
  private readonly localGen = new Map<string, number>();

  constructor(
    private readonly repo: TenantRepository,
    private readonly redis: Redis,
    bus: InvalidationBus,
    private readonly log: Logger,
    ttlSeconds: number,
  ) {
    this.l1 = new NodeCache({ stdTTL: ttlSeconds, useClones: false, checkperiod: Math.max(1, Math.min(60, ttlSeconds)) });
    bus.on('tenant', (m) => {
      if (m.appids) for (const a of m.appids) this.evictLocal(a);
      else this.evictLocal(m.appid);
    });
  }

  async resolve(appid: string): Promise<Tenant | null> {
    const hit = this.l1.get<L1Entry>(appid);
    if (hit) return 'tenant' in hit ? hit.tenant : null;
    return this.flight.run(appid, () => this.load(appid));
  }

  evictLocal(appid: string): void {
    this.l1.del(appid);
    this.flight.forget(appid);
    this.localGen.set(appid, (this.localGen.get(appid) ?? 0) + 1);
  }

  /** Tenants this instance currently holds, for periodic work such as token renewal. */
  cachedTenants(): Tenant[] {
    const out: Tenant[] = [];
    for (const k of this.l1.keys()) {
      const e = this.l1.get<L1Entry>(k);
      if (e && 'tenant' in e) out.push(e.tenant);
    }
    return out;
  }

  close(): void {
    this.l1.close();
  }

  private async load(appid: string): Promise<Tenant | null> {
    const startGen = this.localGen.get(appid) ?? 0;
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
      await this.redis.eval(SET_IF_GEN, 2, tenantCacheKey(appid), tenantGenKey(appid), redisGen, JSON.stringify(doc), String(L2_TTL_S)).catch(() => undefined);
    }
    const tenant = doc ? this.repo.open(doc) : null;
    // An invalidation arrived while we were loading: answer this caller, but don't cache.
    if ((this.localGen.get(appid) ?? 0) === startGen) {
      if (tenant) this.l1.set<L1Entry>(appid, { tenant });
      else this.l1.set<L1Entry>(appid, { missing: true }, NEGATIVE_TTL_S);
    }
    return tenant;
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

/**
 * The bulk form of announceTenantChange (a bulk apply): generations bumped and L2 copies dropped
 * with the commands of a chunk in flight together (one MULTI per tenant, so each keeps its keys in
 * one slot), then one message per chunk of appids instead of one per tenant.
 */
export async function announceTenantChanges(redis: Redis, publish: (appids: string[]) => Promise<void>, appids: readonly string[]): Promise<void> {
  for (let i = 0; i < appids.length; i += ANNOUNCE_CHUNK) {
    const chunk = appids.slice(i, i + ANNOUNCE_CHUNK);
    await Promise.all(chunk.map((appid) => redis.multi().incr(tenantGenKey(appid)).del(tenantCacheKey(appid)).exec()));
    await publish(chunk);
  }
}
