import os from 'node:os';
import { randomBytes } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import type { Redis } from '../infra/redis';
import type { Logger } from '../kernel/log';
import type { Clock } from '../kernel/clock';
import type { Tenant } from '../tenancy/tenant';
import { outboundAgents } from '../transport/address-policy';
import { webhookSection } from './webhook-section';
import { DEFAULT_SHARDS, GROUP, deadIndex, deadKey, fromFields, idMs, parkedIndex, parkedKey, shardRetries, shardStream, toFields, type QueuedDelivery } from './webhook-keys';
import { DEAD_LETTER, HOUSEKEEP, PARK, RECLAIM, TRIM_DEAD, UNPARK } from './webhook-scripts';
import { luaScript, runScript } from '../infra/lua-script';
import { drainLegacyQueues } from './legacy-drain';
import { signDelivery } from './webhook-signing';

export interface WebhookWorkerOptions {
  /** Shared connection for normal commands. */
  redis: Redis;
  /** Dedicated connection: XREADGROUP blocks it. */
  blocking: Redis;
  resolveTenant: (appid: string) => Promise<Tenant | null>;
  log: Logger;
  /** Time of deliveries: signatures, retry schedule, dead-letter stamps and their retention. The loop's own pacing is real time. */
  clock: Clock;
  maxAttempts: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Number of shard streams (DELIVERY_SHARDS); every instance must use the same (default 16). */
  shards?: number;
  /** Deliveries this worker runs at once, all tenants together (default 16). */
  concurrency?: number;
  /** Deliveries this worker runs at once for one tenant (default 4): a slow webhook holds no more slots than this. */
  tenantConcurrency?: number;
  /** Dead letters older than this, by the clock, are trimmed (default 7 days). */
  deadRetentionMs?: number;
  /** At most this many dead letters are kept per tenant, the oldest go first (default 10 000). */
  deadMaxLen?: number;
  /** A delivery whose worker died is taken over after this long. */
  reclaimIdleMs?: number;
  /** How often the age of each tenant's oldest queued delivery is measured (default 5 s). */
  statsEveryMs?: number;
  /** A failed delivery attempt or a queue fault; `appid` is empty for a fault of a whole shard or of the worker. */
  onError?: (appid: string, reason: DeliveryErrorReason) => void;
  /** Age in seconds of the oldest entry (queued, parked or in flight) of a tenant that this worker sees; 0 once it sees none. */
  onOldestPending?: (appid: string, seconds: number) => void;
  /** A delivery was moved to the tenant's dead letters. */
  onDeadLetter?: (appid: string) => void;
  /** ALLOW_PRIVATE_URLS: webhooks on loopback or private addresses (development and tests only). */
  allowPrivateAddresses: boolean;
}

/** Bounded set of reasons a delivery failed or a queue needed repair (a metric label). */
export type DeliveryErrorReason =
  | 'http_4xx'
  | 'http_5xx'
  | 'http_other'
  | 'timeout'
  | 'connection'
  | 'no_webhook'
  | 'malformed_entry'
  /** A shard stream or its consumer group was gone (FLUSHALL, failover, eviction) and was re-created. */
  | 'queue_lost'
  /** A Redis command about this tenant's deliveries (or, with an empty appid, a shard's) failed. */
  | 'redis'
  /** Redis as a whole did not answer; the worker paused. */
  | 'redis_unavailable';

type StreamEntries = [string, string[]][];
type ReadResult = [string, StreamEntries][] | null;

interface Job {
  shard: number;
  /** From the entry ('' if it has none: a malformed entry, dead-lettered). */
  appid: string;
  id: string;
  fields: string[];
  /** How many times the consumer group has handed this entry out, this time included. */
  deliveries: number;
}

/** Sent as EVALSHA: the text crosses the socket once per Redis node, not once per call. */
const SCRIPTS = { park: luaScript(PARK), unpark: luaScript(UNPARK), housekeep: luaScript(HOUSEKEEP), reclaim: luaScript(RECLAIM), trimDead: luaScript(TRIM_DEAD) };

/** How long one blocking read waits on a shard stream: the idle cost of a shard is one read per this. */
const BLOCK_MS = 5000;
/** Most entries one read takes. */
const READ_COUNT = 32;
/** Pace of the maintenance loop; it only looks at local state unless some job is due. */
const TICK_MS = 100;
/** Housekeeping of a shard with nothing known to be due: retries scheduled by another instance (that may have died) are found within this. */
const HOUSEKEEP_IDLE_MS = 5000;
/** Housekeeping of a shard while some tenant has parked entries, so that room freed elsewhere is used. */
const HOUSEKEEP_PARKED_MS = 1000;
const RECLAIM_EVERY_MS = 5000;
const TRIM_EVERY_MS = 60_000;
const LEGACY_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** Redis's answer when a stream or its consumer group does not exist (or vanished under a blocked read, Redis 7). */
const isNoGroup = (err: unknown) => errorText(err).startsWith('NOGROUP') || errorText(err).startsWith('UNBLOCKED');
/** Redis answered, with an error about the command or its key; anything else (closed connection, timeout) means Redis is unreachable. */
const isReplyError = (err: unknown) => err instanceof Error && err.name === 'ReplyError';

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
/** When an entry was first queued: its `since` field if it was parked, else its id's time. */
const sinceOf = (id: string, fields: string[]) => Number(fieldOf(fields, 'since') || idMs(id));

/**
 * Delivers queued pushes to tenant webhooks. Deliveries are queued in a fixed number of shard
 * streams (a tenant hashes to one), so what the worker does while idle does not depend on how many
 * tenants there are: one blocking read per shard every few seconds, and a housekeeping script, a
 * reclaim and a stats read per shard at a slow pace. Every gateway instance runs one worker; they
 * share the work through one consumer group per shard stream. A delivery is acknowledged only after
 * the webhook answered 2xx (at least once); a failure goes to the shard's retry schedule with
 * exponential backoff, and after maxAttempts to the tenant's dead letters.
 *
 * One blocking read per shard, each on its own connection: a shard is its own Redis Cluster slot
 * (so one XREADGROUP cannot name two), and a connection blocked in a read serves nothing else; with
 * 16 shards that is 16 mostly idle sockets per instance, which Redis handles easily, and a new entry
 * in any shard is read at once, not after a polling round.
 *
 * Isolation between tenants: a tenant never has more than `tenantConcurrency` deliveries in this
 * worker; an entry read for a tenant at its cap is parked on the tenant's list in the same step as it
 * leaves the stream, so the tenants behind it in the shard go on, and it comes back (to this worker
 * or another) when the tenant has room. A shard whose stream or group vanished is re-created alone.
 */
export class WebhookWorker {
  private readonly consumer = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly httpClient: AxiosInstance;
  private readonly shards: number;
  private readonly allShards: number[];
  private readonly concurrency: number;
  private readonly tenantConcurrency: number;
  private readonly deadRetentionMs: number;
  private readonly deadMaxLen: number;
  private readonly reclaimIdleMs: number;
  private readonly statsEveryMs: number;
  private running = false;
  private readers: Redis[] = [];
  private loops: Promise<void>[] = [];
  /** Deliveries running now. */
  private readonly inFlight = new Map<Promise<void>, Job>();
  /** Entries read while every slot was busy; they start as slots free up. */
  private readonly ready: Job[] = [];
  /** Per tenant: running plus ready, what its cap is checked against. */
  private readonly heldBy = new Map<string, number>();
  /** Tenants known to have parked entries, with their shard. */
  private readonly parked = new Map<string, number>();
  private readonly unparking = new Set<string>();
  /** Per shard: clock time of the earliest retry known to be scheduled (Infinity: none known). */
  private readonly nextDue: number[];
  /** Per shard: (pace) time of its last housekeeping. */
  private readonly lastHousekeep: number[];
  /** Last (pace) time each periodic job ran. */
  private readonly lastRun = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private redisDown = false;
  /** Some tenant is still in the layout before shards. */
  private legacyLeft = false;
  /** Shards whose last command failed (logged once until one succeeds). */
  private readonly failingShards = new Set<number>();
  /** Tenants whose oldest-pending age was last reported above 0, and tenants this worker handled since the last report. */
  private readonly reported = new Set<string>();
  private readonly touched = new Set<string>();

  constructor(private readonly o: WebhookWorkerOptions) {
    this.shards = o.shards ?? DEFAULT_SHARDS;
    this.allShards = Array.from({ length: this.shards }, (_, i) => i);
    this.nextDue = this.allShards.map(() => 0);
    this.lastHousekeep = this.allShards.map(() => 0);
    this.concurrency = o.concurrency ?? 16;
    this.tenantConcurrency = o.tenantConcurrency ?? 4;
    this.deadRetentionMs = o.deadRetentionMs ?? 7 * DAY_MS;
    this.deadMaxLen = o.deadMaxLen ?? 10_000;
    // Idle longer than any delivery can take, so a slow delivery is never taken over mid-flight.
    this.reclaimIdleMs = o.reclaimIdleMs ?? Math.max(30_000, 2 * o.timeoutMs + 5_000);
    this.statsEveryMs = o.statsEveryMs ?? 5000;
    // Webhook URLs come from tenant files: every connection is checked where it really goes.
    const { httpAgent, httpsAgent } = outboundAgents({ allowPrivateAddresses: o.allowPrivateAddresses }, { maxSockets: 64 });
    this.httpClient = axios.create({
      timeout: o.timeoutMs,
      httpAgent,
      httpsAgent,
      maxRedirects: 0,
      maxContentLength: 64 * 1024,
      validateStatus: () => true,
      proxy: false,
      transformRequest: [(d: unknown) => d],
      responseType: 'text',
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Shard 0 reads on the connection given; the others on copies of it (same options).
    this.readers = this.allShards.map((s) => {
      if (s === 0) return this.o.blocking;
      const copy = this.o.blocking.duplicate();
      // Its outages surface as failed reads (logged once by the worker), not as unhandled 'error' events.
      copy.on('error', () => undefined);
      return copy;
    });
    this.loops = [this.maintain(), ...this.allShards.map((s) => this.readLoop(s))];
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const r of this.readers) r.disconnect();
    this.wakeAll();
    await Promise.all(this.loops);
    // Entries read but not started stay pending in Redis; another worker reclaims them.
    this.ready.length = 0;
    await Promise.allSettled([...this.inFlight.keys()]);
  }

  // ---- reading --------------------------------------------------------------------------------

  private async readLoop(shard: number): Promise<void> {
    const reader = this.readers[shard] as Redis;
    const stream = shardStream(shard);
    if (reader.status === 'wait') await reader.connect().catch(() => undefined);
    // Quietly: a shard nobody has written to yet has no group, which is no fault.
    await this.ensureGroup(shard).catch(() => undefined);
    while (this.running) {
      const free = this.freeSlots();
      if (free <= 0) {
        await this.waitForSlot(BLOCK_MS);
        continue;
      }
      try {
        const res = (await reader.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', Math.min(free, READ_COUNT), 'BLOCK', BLOCK_MS, 'STREAMS', stream, '>')) as ReadResult;
        this.failingShards.delete(shard);
        this.markUp();
        for (const [, entries] of res ?? []) await this.takeAll(entries.map(([id, fields]) => ({ shard, appid: fieldOf(fields, 'appid') ?? '', id, fields, deliveries: 1 })));
      } catch (err) {
        if (!this.running) break;
        await this.shardFault(shard, err);
      }
    }
  }

  /** A read failed: a lost stream or group is re-created (for this shard alone); anything else pauses this shard's reads. */
  private async shardFault(shard: number, err: unknown): Promise<void> {
    if (isNoGroup(err)) {
      try {
        if (await this.ensureGroup(shard)) {
          this.o.onError?.('', 'queue_lost');
          this.o.log.warn({ shard }, 'webhook shard stream or consumer group was missing; re-created');
        }
        return;
      } catch (again) {
        err = again;
      }
    }
    if (isReplyError(err)) {
      this.o.onError?.('', 'redis');
      if (!this.failingShards.has(shard)) this.o.log.error({ shard, err: errorText(err) }, 'webhook shard read failed');
      this.failingShards.add(shard);
    } else this.markDown(err);
    await this.sleep(500);
  }

  /** True when the group had to be created. From '0', so entries queued before any group existed are delivered too. */
  private async ensureGroup(shard: number): Promise<boolean> {
    try {
      await this.o.redis.xgroup('CREATE', shardStream(shard), GROUP, '0', 'MKSTREAM');
      return true;
    } catch (err) {
      if (errorText(err).startsWith('BUSYGROUP')) return false;
      throw err;
    }
  }

  /**
   * Starts (or queues) each entry, or parks it if its tenant is at its cap here. The parks of one
   * read are sent together (one Redis round trip for the batch, in the entries' order), since
   * parking one entry does not change whether the next must be parked.
   */
  private async takeAll(jobs: Job[]): Promise<void> {
    const parks: Promise<void>[] = [];
    for (const job of jobs) {
      if (job.appid !== '' && (this.heldBy.get(job.appid) ?? 0) >= this.tenantConcurrency) {
        parks.push(this.park(job).then((parked) => (parked ? undefined : this.accept(job))));
      } else this.accept(job);
    }
    await Promise.all(parks);
  }

  /** Moves an entry of a tenant at its cap off the stream onto the tenant's parked list; false if it could not (it is then delivered here anyway). */
  private async park(job: Job): Promise<boolean> {
    const d = fromFields(job.fields);
    if (!d) return false;
    // Handed out before (taken over from a worker that died): those handouts count as attempts.
    const member = JSON.stringify({
      deliveryId: d.deliveryId,
      appid: d.appid,
      message: d.message,
      receivedAt: d.receivedAt,
      attempts: d.attempts + Math.max(0, job.deliveries - 1),
      lastError: d.extra.lastError ?? '',
      since: sinceOf(job.id, job.fields),
    });
    try {
      await runScript(this.o.redis, SCRIPTS.park, [shardStream(job.shard), parkedKey(job.shard, job.appid), parkedIndex(job.shard)], [GROUP, job.id, member, job.appid, String(Date.now())]);
      this.parked.set(job.appid, job.shard);
      return true;
    } catch (err) {
      this.o.onError?.(job.appid, 'redis');
      this.o.log.error({ appid: job.appid, err: errorText(err) }, 'parking a webhook delivery failed; delivered over the cap');
      return false;
    }
  }

  /** Takes parked entries of a tenant back, as many as it has room for here. */
  private async unpark(appid: string): Promise<void> {
    const shard = this.parked.get(appid);
    if (shard === undefined || this.unparking.has(appid) || !this.running) return;
    const room = Math.min(this.tenantConcurrency - (this.heldBy.get(appid) ?? 0), this.freeSlots());
    if (room <= 0) return;
    this.unparking.add(appid);
    try {
      const entries = ((await runScript(this.o.redis, SCRIPTS.unpark, [parkedKey(shard, appid), parkedIndex(shard), shardStream(shard)], [GROUP, this.consumer, appid, String(room)])) ??
        []) as StreamEntries;
      if (entries.length < room) this.parked.delete(appid);
      await this.takeAll(entries.map(([id, fields]) => ({ shard, appid: fieldOf(fields, 'appid') ?? '', id, fields, deliveries: 1 })));
    } finally {
      this.unparking.delete(appid);
    }
  }

  // ---- periodic jobs --------------------------------------------------------------------------

  private async maintain(): Promise<void> {
    while (this.running) {
      try {
        await this.housekeepDue();
        await this.every('reclaim', Math.min(RECLAIM_EVERY_MS, this.reclaimIdleMs), () => this.reclaim());
        await this.every('stats', this.statsEveryMs, () => this.measureBacklog());
        await this.every('trim', TRIM_EVERY_MS, () => this.trimDeadLetters().then(() => undefined));
        // Sooner while an old worker (alive or dead) still holds entries: they are taken once idle that long.
        await this.every('legacy', this.legacyLeft ? Math.min(LEGACY_EVERY_MS, this.reclaimIdleMs) : LEGACY_EVERY_MS, () => this.drainLegacy());
        this.markUp();
      } catch (err) {
        if (!this.running) break;
        this.markDown(err);
        await this.sleep(500);
      }
      await this.sleep(TICK_MS);
    }
  }

  private async every(job: string, ms: number, fn: () => Promise<void>): Promise<void> {
    const paceNow = Date.now();
    if (paceNow - (this.lastRun.get(job) ?? 0) < ms) return;
    await fn();
    this.lastRun.set(job, paceNow);
  }

  /** Runs the housekeeping of every shard with a retry due by the clock, tenants parked, or none for a while. */
  private async housekeepDue(): Promise<void> {
    const paceNow = Date.now();
    const now = this.o.clock.now();
    const parkedShards = new Set(this.parked.values());
    const due = this.allShards.filter(
      (s) => now >= (this.nextDue[s] as number) || paceNow - (this.lastHousekeep[s] as number) >= (parkedShards.has(s) ? HOUSEKEEP_PARKED_MS : HOUSEKEEP_IDLE_MS),
    );
    await this.perShard(due, async (s) => {
      const [moved, next, parkedTenants] = (await runScript(this.o.redis, SCRIPTS.housekeep, [shardRetries(s), shardStream(s), parkedIndex(s)], [String(now)])) as [number, string, string[]];
      this.lastHousekeep[s] = paceNow;
      // A full batch moved: more may be due, look again on the next tick.
      this.nextDue[s] = moved >= 100 ? now : next === '' ? Infinity : Number(next);
      for (const [appid, shard] of this.parked) if (shard === s && !parkedTenants.includes(appid)) this.parked.delete(appid);
      for (const appid of parkedTenants) this.parked.set(appid, s);
      await Promise.all(parkedTenants.map((appid) => this.unpark(appid)));
    });
  }

  /** Moves every retry that is due by the clock back into its shard stream (all shards, now). */
  async promoteDue(): Promise<void> {
    this.nextDue.fill(0);
    await this.housekeepDue();
  }

  /** Takes over deliveries left pending by a worker that died mid-delivery. */
  private async reclaim(): Promise<void> {
    const free = this.freeSlots();
    if (free <= 0) return;
    await this.perShard(this.allShards, async (s) => {
      const claimed = (await runScript(this.o.redis, SCRIPTS.reclaim, [shardStream(s)], [GROUP, this.consumer, String(this.reclaimIdleMs), String(Math.min(free, READ_COUNT))])) as [
        string,
        string[],
        number,
      ][];
      await this.takeAll(claimed.map(([id, fields, deliveries]) => ({ shard: s, appid: fieldOf(fields, 'appid') ?? '', id, fields, deliveries: Number(deliveries) })));
    });
  }

  /**
   * Reports the age of the oldest queued, parked or in-flight entry of the tenants it can see: the
   * first entry of each shard stream, the first parked entry of each parked tenant, and this worker's
   * own deliveries (ids are Redis server time, so is "now"). A tenant reported before, or handled by
   * this worker since, and not seen now is reported as 0.
   */
  private async measureBacklog(): Promise<void> {
    if (!this.o.onOldestPending) return;
    const [sec, usec] = await this.o.redis.time();
    const nowMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const ages = new Map<string, number>();
    const note = (appid: string, sinceMs: number) => {
      if (!appid || !Number.isFinite(sinceMs)) return;
      const age = Math.max(0, nowMs - sinceMs) / 1000;
      if (age > (ages.get(appid) ?? -1)) ages.set(appid, age);
    };
    await this.perShard(this.allShards, async (s) => {
      const [first, parkedTenants] = await Promise.all([this.o.redis.xrange(shardStream(s), '-', '+', 'COUNT', 1), this.o.redis.zrange(parkedIndex(s), 0, 99)]);
      const head = first[0];
      if (head) note(fieldOf(head[1], 'appid') ?? '', sinceOf(head[0], head[1]));
      const heads = await Promise.all(parkedTenants.map((appid) => this.o.redis.lindex(parkedKey(s, appid), 0)));
      heads.forEach((m, i) => {
        if (m) note(parkedTenants[i] as string, Number((JSON.parse(m) as { since?: number }).since));
      });
    });
    for (const job of [...this.inFlight.values(), ...this.ready]) note(job.appid, sinceOf(job.id, job.fields));
    for (const [appid, age] of ages) {
      this.o.onOldestPending(appid, age);
      this.reported.add(appid);
    }
    for (const appid of new Set([...this.reported, ...this.touched]))
      if (!ages.has(appid)) {
        this.o.onOldestPending(appid, 0);
        this.reported.delete(appid);
      }
    this.touched.clear();
  }

  /** Drops dead letters older than the retention (their ids are their time of death on the clock); returns how many. */
  async trimDeadLetters(): Promise<number> {
    const minId = String(Math.max(0, this.o.clock.now() - this.deadRetentionMs));
    let sum = 0;
    await this.perShard(this.allShards, async (s) => {
      const appids = await this.o.redis.zrange(deadIndex(s), 0, -1);
      const trimmed = await Promise.all(appids.map((appid) => runScript(this.o.redis, SCRIPTS.trimDead, [deadKey(s, appid), deadIndex(s)], [minId, appid]) as Promise<number>));
      sum += trimmed.reduce((a, n) => a + Number(n), 0);
    });
    return sum;
  }

  /** Moves what an older version queued in the per-tenant layout into the shards (at start, then every minute). */
  private async drainLegacy(): Promise<void> {
    const { moved, tenantsLeft } = await drainLegacyQueues({ redis: this.o.redis, shards: this.shards, consumer: this.consumer, reclaimIdleMs: this.reclaimIdleMs, log: this.o.log });
    this.legacyLeft = tenantsLeft > 0;
    if (moved > 0) this.o.log.info({ moved }, 'webhook deliveries of the per-tenant layout moved into the shard streams');
  }

  /**
   * Runs one job per shard, concurrently (auto-pipelined), and keeps one shard's failure to itself:
   * it is counted and logged once. If every shard failed without Redis even answering, Redis itself
   * is in trouble: that is thrown.
   */
  private async perShard(shards: number[], fn: (shard: number) => Promise<void>): Promise<void> {
    const settled = await Promise.allSettled(shards.map(fn));
    const failures: [number, unknown][] = [];
    settled.forEach((r, i) => {
      const s = shards[i] as number;
      if (r.status === 'rejected') failures.push([s, r.reason]);
      else this.failingShards.delete(s);
    });
    if (failures.length === 0) return;
    const unanswered = failures.find(([, err]) => !isReplyError(err));
    if (unanswered && failures.length === shards.length) throw unanswered[1];
    for (const [s, err] of failures) {
      // A lost stream or group is the shard reader's to re-create.
      if (isNoGroup(err)) continue;
      this.o.onError?.('', 'redis');
      if (!this.failingShards.has(s)) this.o.log.error({ shard: s, err: errorText(err) }, 'webhook shard command failed');
      this.failingShards.add(s);
    }
  }

  private markDown(err: unknown): void {
    this.o.onError?.('', 'redis_unavailable');
    if (!this.redisDown) this.o.log.warn({ err: errorText(err) }, 'webhook worker paused: redis unavailable');
    this.redisDown = true;
  }

  private markUp(): void {
    this.redisDown = false;
  }

  // ---- slots ----------------------------------------------------------------------------------

  private freeSlots(): number {
    return this.concurrency - this.inFlight.size - this.ready.length;
  }

  /** Resolves after `ms`, or as soon as a delivery finishes or the worker stops. */
  private waitForSlot(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, ms);
      this.waiters.push(done);
    });
  }

  /** Resolves after `ms`, or at once when the worker stops. */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.waitForSlot(ms);
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const done of w) done();
  }

  private accept(job: Job): void {
    this.heldBy.set(job.appid, (this.heldBy.get(job.appid) ?? 0) + 1);
    this.touched.add(job.appid);
    if (this.inFlight.size < this.concurrency) this.launch(job);
    else this.ready.push(job);
  }

  private launch(job: Job): void {
    const p: Promise<void> = this.deliver(job)
      .catch((err: unknown) => {
        this.o.onError?.(job.appid, 'redis');
        this.o.log.error({ err: errorText(err), id: job.id, appid: job.appid }, 'webhook delivery bookkeeping failed; it will be retried');
      })
      .finally(() => {
        this.inFlight.delete(p);
        const held = (this.heldBy.get(job.appid) ?? 1) - 1;
        if (held > 0) this.heldBy.set(job.appid, held);
        else this.heldBy.delete(job.appid);
        const next = this.running ? this.ready.shift() : undefined;
        if (next) this.launch(next);
        // The tenant has room again here: take back what was parked for it.
        if (this.running && this.parked.has(job.appid))
          this.unpark(job.appid).catch((err: unknown) => {
            this.o.onError?.(job.appid, 'redis');
            this.o.log.error({ appid: job.appid, err: errorText(err) }, 'taking back parked webhook deliveries failed');
          });
        this.wakeAll();
      });
    this.inFlight.set(p, job);
  }

  // ---- one delivery ---------------------------------------------------------------------------

  private async deliver({ shard, appid, id, fields, deliveries }: Job): Promise<void> {
    const stream = shardStream(shard);
    const d = fromFields(fields);
    if (!d) {
      // Never redelivered (it cannot be), never silently lost: kept aside for an operator.
      this.o.log.error({ id, appid, shard }, 'malformed webhook queue entry moved to dead letters');
      this.o.onError?.(appid, 'malformed_entry');
      const tx = this.o.redis.multi();
      this.deadLetter(tx, shard, appid || 'malformed', [...fields, 'lastError', 'malformed entry']);
      await this.checked(tx.xack(stream, GROUP, id).xdel(stream, id));
      return;
    }
    const tenant = await this.o.resolveTenant(d.appid);
    const webhook = tenant ? webhookSection.of(tenant).webhook : undefined;
    // Attempts before this entry was queued, plus each time the group handed it out: a delivery
    // taken over from a worker that died (which may have sent it) counts as a new attempt.
    const attempt = d.attempts + Math.max(1, deliveries);
    let error: string;
    let reason: DeliveryErrorReason;
    if (!webhook) {
      error = 'tenant has no webhook';
      reason = 'no_webhook';
    } else {
      const body = deliveryBody(d, attempt);
      const timestamp = String(Math.floor(this.o.clock.now() / 1000));
      try {
        const res = await this.httpClient.post(webhook.url, body, {
          headers: {
            'content-type': 'application/json',
            'x-wxgate-delivery': d.deliveryId,
            'x-wxgate-timestamp': timestamp,
            'x-wxgate-signature': signDelivery(webhook.secret, timestamp, body),
            'x-wxgate-attempt': String(attempt),
          },
        });
        if (res.status >= 200 && res.status < 300) {
          await this.checked(this.o.redis.multi().xack(stream, GROUP, id).xdel(stream, id));
          return;
        }
        error = `HTTP ${res.status}`;
        reason = res.status >= 500 ? 'http_5xx' : res.status >= 400 ? 'http_4xx' : 'http_other';
      } catch (err) {
        const code = (err as { code?: string }).code;
        error = code ?? errorText(err);
        reason = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timeout' : 'connection';
      }
    }
    this.o.onError?.(d.appid, reason);
    await this.fail(shard, id, d, attempt, error);
  }

  private async fail(shard: number, id: string, d: QueuedDelivery, attempt: number, error: string): Promise<void> {
    const stream = shardStream(shard);
    const tx = this.o.redis.multi();
    if (attempt >= this.o.maxAttempts || error === 'tenant has no webhook') {
      this.deadLetter(tx, shard, d.appid, toFields({ ...d, attempts: attempt }, { lastError: error, deadAt: String(this.o.clock.now()) }));
      this.o.log.warn({ appid: d.appid, deliveryId: d.deliveryId, attempts: attempt, error }, 'webhook delivery dead-lettered');
    } else {
      const due = this.o.clock.now() + retryDelayMs(attempt, this.o.retryBaseMs, this.o.retryMaxMs);
      const { deliveryId, appid, message, receivedAt } = d;
      tx.zadd(shardRetries(shard), due, JSON.stringify({ deliveryId, appid, message, receivedAt, attempts: attempt, lastError: error }));
      // This worker promotes it when due; another one finds it at its next housekeeping.
      this.nextDue[shard] = Math.min(this.nextDue[shard] as number, due);
    }
    await this.checked(tx.xack(stream, GROUP, id).xdel(stream, id));
  }

  private deadLetter(tx: ReturnType<Redis['multi']>, shard: number, appid: string, fields: string[]): void {
    tx.eval(DEAD_LETTER, 2, deadKey(shard, appid), deadIndex(shard), String(this.o.clock.now()), String(this.deadMaxLen), appid, ...fields);
    this.o.onDeadLetter?.(appid);
  }

  /**
   * Runs a transaction and fails if any command in it failed (the entry then stays pending and is
   * retried). A NOGROUP from XACK is no failure: the stream or group went away (and the entry with
   * it, or the XDEL in the same transaction removed it), so nothing is left to acknowledge.
   */
  private async checked(tx: ReturnType<Redis['multi']>): Promise<void> {
    const res = await tx.exec();
    if (!res) throw new Error('transaction aborted');
    const failed = res.find(([err]) => err && !isNoGroup(err));
    if (failed) throw failed[0];
  }
}

/** The JSON a webhook receives; `message` is already JSON and is embedded as it was queued. */
export function deliveryBody(d: QueuedDelivery, attempt: number): string {
  return `{"deliveryId":${JSON.stringify(d.deliveryId)},"appid":${JSON.stringify(d.appid)},"attempt":${attempt},"message":${d.message}}`;
}

/** Exponential backoff after the `attempt`-th failure, capped, with ±20 % jitter so retries spread. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const delay = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(delay * (0.8 + random() * 0.4));
}
