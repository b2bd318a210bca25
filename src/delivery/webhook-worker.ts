import os from 'node:os';
import { randomBytes } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import type { Redis } from '../infra/redis';
import type { Logger } from '../kernel/log';
import type { Clock } from '../kernel/clock';
import type { Tenant } from '../tenancy/tenant';
import { outboundAgents } from '../transport/address-policy';
import { webhookSection } from './webhook-section';
import { GROUP, STREAMS_SET, appidOfStream, deadKey, fromFields, retryKey, streamKey, toFields, type QueuedDelivery } from './webhook-keys';
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
  /** A failed delivery attempt or a queue fault; `appid` is empty when the whole worker is paused. */
  onError?: (appid: string, reason: DeliveryErrorReason) => void;
  /** Age in seconds of the oldest entry (queued or in flight) in a tenant's stream; 0 when it is empty. */
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
  /** The tenant's stream or consumer group was gone (FLUSHALL, failover, eviction) and was re-created. */
  | 'queue_lost'
  /** A Redis command about this tenant's queue failed. */
  | 'redis'
  /** Redis as a whole did not answer; the worker paused. */
  | 'redis_unavailable';

/** Moves due retries back into the stream, atomically, so a crash in between loses nothing. */
const PROMOTE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, member in ipairs(due) do
  local f = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', 'deliveryId', f.deliveryId, 'appid', f.appid, 'message', f.message, 'attempts', tostring(f.attempts), 'receivedAt', tostring(f.receivedAt), 'lastError', f.lastError or '')
  redis.call('ZREM', KEYS[1], member)
end
return #due`;

/**
 * Takes over entries idle in other consumers' hands (their worker died) and returns each with its
 * delivery count, which XAUTOCLAIM has just raised: the count says how many times the entry was
 * handed out, so a redelivery carries the next attempt number. An entry whose data is gone (deleted
 * from the stream; Redis 6.2 still lists it) can never be delivered and is acknowledged.
 */
const RECLAIM = `
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
for _, e in ipairs(res[2]) do
  if e[2] then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    out[#out + 1] = {e[1], e[2], p[1] and p[1][4] or 1}
  else
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
  end
end
return out`;

/**
 * Appends a dead letter whose id is its time of death on the worker's clock (so retention is by
 * that clock), capped in length. If that id is not above the stream's last one (clocks of two
 * instances disagree), Redis picks the id: a dead letter is never refused for its timestamp.
 */
const DEAD_LETTER = `
local args = {'XADD', KEYS[1], 'MAXLEN', '=', ARGV[2], ARGV[1] .. '-*'}
for i = 3, #ARGV do args[#args + 1] = ARGV[i] end
local id = redis.pcall(unpack(args))
if type(id) == 'table' and id.err then
  args[6] = '*'
  id = redis.call(unpack(args))
end
return id`;

type StreamEntries = [string, string[]][];
type ReadResult = [string, StreamEntries][] | null;

interface Job {
  appid: string;
  id: string;
  fields: string[];
  /** How many times the consumer group has handed this entry out, this time included. */
  deliveries: number;
}

const BLOCK_MS = 1000;
/** While some tenant is at its cap, blocking reads are short so that a slot it frees is used soon. */
const HELD_BACK_BLOCK_MS = 100;
const DISCOVER_EVERY_MS = 1000;
const PROMOTE_EVERY_MS = 250;
const RECLAIM_EVERY_MS = 5000;
const TRIM_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** Redis's answer when a stream or its consumer group does not exist. */
const isNoGroup = (err: unknown) => errorText(err).startsWith('NOGROUP');
/** Redis answered, with an error about the command or its key; anything else (closed connection, timeout) means Redis is unreachable. */
const isReplyError = (err: unknown) => err instanceof Error && err.name === 'ReplyError';

/**
 * Delivers queued pushes to tenant webhooks. Every gateway instance runs one worker; they share the
 * work through one consumer group per tenant stream. A delivery is acknowledged only after the
 * webhook answered 2xx (at least once); a failure goes to a retry schedule with exponential
 * backoff, and after maxAttempts to the tenant's dead-letter stream.
 *
 * Isolation between tenants: each stream is read on its own budget (a tenant never has more than
 * `tenantConcurrency` deliveries in this worker, and a saturated tenant is not read from at all), and
 * a stream or group that vanished is re-created for that tenant alone while the others keep going.
 */
export class WebhookWorker {
  private readonly consumer = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly httpClient: AxiosInstance;
  private readonly known = new Set<string>();
  private readonly concurrency: number;
  private readonly tenantConcurrency: number;
  private readonly deadRetentionMs: number;
  private readonly deadMaxLen: number;
  private readonly reclaimIdleMs: number;
  private readonly statsEveryMs: number;
  private running = false;
  private loop?: Promise<void>;
  /** Deliveries running now. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Entries read while every slot was busy; they start as slots free up. */
  private readonly ready: Job[] = [];
  /** Per tenant: running plus ready, what its cap is checked against. */
  private readonly heldBy = new Map<string, number>();
  /** Last (pace) time each periodic job ran. */
  private readonly lastRun = new Map<string, number>();
  /** The last read found nothing: the next one blocks right away instead of polling every stream. */
  private idle = false;
  private rotation = 0;
  private errorLogged = false;
  /** Tenants whose last Redis command failed (logged once until one succeeds). */
  private readonly failing = new Set<string>();
  /** Tenants whose stream failed to read for a reason other than a lost group; polled, not blocked on. */
  private readonly unreadable = new Set<string>();
  private wake?: () => void;

  constructor(private readonly o: WebhookWorkerOptions) {
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
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.o.blocking.disconnect();
    this.wake?.();
    await this.loop;
    // Entries read but not started stay pending in Redis; another worker reclaims them.
    this.ready.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
        this.errorLogged = false;
      } catch (err) {
        if (!this.running) break;
        this.o.onError?.('', 'redis_unavailable');
        if (!this.errorLogged) this.o.log.warn({ err: errorText(err) }, 'webhook worker paused: redis unavailable');
        this.errorLogged = true;
        await this.pause(500);
      }
    }
  }

  private async tick(): Promise<void> {
    await this.every('discover', DISCOVER_EVERY_MS, () => this.discover());
    await this.every('promote', PROMOTE_EVERY_MS, () => this.promoteDue());
    await this.every('reclaim', Math.min(RECLAIM_EVERY_MS, this.reclaimIdleMs), () => this.reclaim());
    await this.every('stats', this.statsEveryMs, () => this.measureBacklog());
    await this.every('trim', TRIM_EVERY_MS, () => this.trimDeadLetters().then(() => undefined));
    const free = this.freeSlots();
    const open = this.openTenants();
    if (free <= 0 || open.length === 0) {
      // Nothing may be read: wait for a delivery to finish (or for discovery to find a stream).
      await this.pause(this.known.size === 0 ? 200 : BLOCK_MS);
      return;
    }
    if (!this.idle && (await this.readAvailable(open, free)) > 0) return;
    // A tenant whose stream fails to read for another reason than a lost group (say, a key of the
    // wrong type) would fail the one blocking command for all: it is left out of it and polled.
    const watched = open.filter(([appid]) => !this.unreadable.has(appid));
    const heldBack = watched.length < this.known.size;
    this.idle = false;
    if (watched.length === 0) {
      await this.pause(HELD_BACK_BLOCK_MS);
      return;
    }
    const got = await this.readBlocking(watched, heldBack ? HELD_BACK_BLOCK_MS : BLOCK_MS);
    this.idle = got === 0 && this.unreadable.size === 0;
  }

  private async every(job: string, ms: number, fn: () => Promise<void>): Promise<void> {
    const paceNow = Date.now();
    if (paceNow - (this.lastRun.get(job) ?? 0) < ms) return;
    await fn();
    this.lastRun.set(job, paceNow);
  }

  /** Resolves after `ms`, or as soon as a delivery finishes or the worker stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private freeSlots(): number {
    return this.concurrency - this.inFlight.size - this.ready.length;
  }

  /** Tenants below their cap with the room each has left, starting at a rotating one so that no tenant always goes first. */
  private openTenants(): [string, number][] {
    const appids = [...this.known];
    const out: [string, number][] = [];
    const start = appids.length ? this.rotation++ % appids.length : 0;
    for (let i = 0; i < appids.length; i++) {
      const appid = appids[(start + i) % appids.length] as string;
      const room = this.tenantConcurrency - (this.heldBy.get(appid) ?? 0);
      if (room > 0) out.push([appid, room]);
    }
    return out;
  }

  /**
   * Reads what is queued, one XREADGROUP per stream (pipelined), each for at most that tenant's room
   * and all together for at most the free slots. Per stream, so a stream that is gone fails alone.
   */
  private async readAvailable(open: [string, number][], free: number): Promise<number> {
    const plan = shareSlots(open, free);
    const results = await this.perTenant(
      plan.map(([appid]) => appid),
      (appid, i) => this.o.redis.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', (plan[i] as [string, number])[1], 'STREAMS', streamKey(appid), '>') as Promise<ReadResult>,
      this.unreadable,
    );
    let got = 0;
    for (const [appid, res] of results) got += this.acceptAll(appid, res);
    return got;
  }

  /**
   * Waits up to `blockMs` for a new entry on any open stream, taking at most one per stream (more
   * streams than free slots leave the extra entries ready, not running). One command names every
   * stream, so one lost stream fails it: then every named stream's group is re-created as needed.
   */
  private async readBlocking(open: [string, number][], blockMs: number): Promise<number> {
    const keys = open.map(([appid]) => streamKey(appid));
    let res: ReadResult;
    try {
      res = (await this.o.blocking.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', 1, 'BLOCK', blockMs, 'STREAMS', ...keys, ...keys.map(() => '>'))) as ReadResult;
    } catch (err) {
      if (!this.running || !isReplyError(err)) throw err;
      // Some other error about one of the streams: the next tick's per-stream reads find which.
      if (!isNoGroup(err)) return 0;
      await this.perTenant(
        open.map(([appid]) => appid),
        (appid) => this.repair(appid),
      );
      return 0;
    }
    let got = 0;
    for (const [stream, entries] of res ?? []) got += this.acceptAll(appidOfStream(stream), [[stream, entries]]);
    return got;
  }

  private acceptAll(appid: string, res: ReadResult): number {
    let got = 0;
    for (const [, entries] of res ?? [])
      for (const [id, fields] of entries) {
        this.accept({ appid, id, fields, deliveries: 1 });
        got++;
      }
    return got;
  }

  /**
   * Runs one command per tenant, concurrently (auto-pipelined), and keeps one tenant's failure to
   * itself: a lost stream or group is re-created, anything else is counted, logged once and noted in
   * `broken`. If none succeeded and Redis did not even answer, Redis itself is in trouble: that is thrown.
   */
  private async perTenant<T>(appids: string[], fn: (appid: string, i: number) => Promise<T>, broken?: Set<string>): Promise<[string, T][]> {
    const settled = await Promise.allSettled(appids.map((appid, i) => fn(appid, i)));
    const out: [string, T][] = [];
    const failures: [string, unknown][] = [];
    settled.forEach((r, i) => {
      const appid = appids[i] as string;
      if (r.status === 'fulfilled') {
        out.push([appid, r.value]);
        this.failing.delete(appid);
        broken?.delete(appid);
      } else failures.push([appid, r.reason]);
    });
    const unanswered = failures.find(([, err]) => !isReplyError(err));
    if (unanswered && out.length === 0) throw unanswered[1];
    for (const [appid, err] of failures) {
      if (isNoGroup(err)) {
        await this.repair(appid).catch(() => undefined);
        continue;
      }
      this.o.onError?.(appid, 'redis');
      broken?.add(appid);
      if (!this.failing.has(appid)) this.o.log.error({ appid, err: errorText(err) }, 'webhook queue command failed for one tenant');
      this.failing.add(appid);
    }
    return out;
  }

  /** Re-creates a tenant's stream and group if they are gone (FLUSHALL, failover to a lagging replica, eviction). */
  private async repair(appid: string): Promise<void> {
    if (!(await this.ensureGroup(appid))) return;
    this.o.onError?.(appid, 'queue_lost');
    this.o.log.warn({ appid }, 'webhook stream or consumer group was missing; re-created');
  }

  /** True when the group had to be created. From '0', so entries queued before any group existed are delivered too. */
  private async ensureGroup(appid: string): Promise<boolean> {
    try {
      await this.o.redis.xgroup('CREATE', streamKey(appid), GROUP, '0', 'MKSTREAM');
      return true;
    } catch (err) {
      if (errorText(err).startsWith('BUSYGROUP')) return false;
      throw err;
    }
  }

  /** Moves every retry that is due by the clock back into its stream. */
  async promoteDue(): Promise<void> {
    const now = String(this.o.clock.now());
    await this.perTenant([...this.known], (appid) => this.o.redis.eval(PROMOTE_DUE, 2, retryKey(appid), streamKey(appid), now));
  }

  /**
   * Learns new tenant streams, and puts back into the set any stream it knows that the set lost
   * (a push re-adds its own tenant, but a stream with a backlog and no new push would be orphaned).
   */
  private async discover(): Promise<void> {
    const members = new Set(await this.o.redis.smembers(STREAMS_SET));
    const found = [...members].filter((appid) => !this.known.has(appid));
    // One whose group cannot be created is known all the same: its reads then fail on their own.
    await this.perTenant(found, (appid) => this.ensureGroup(appid));
    for (const appid of found) this.known.add(appid);
    const lost = [...this.known].filter((appid) => !members.has(appid));
    if (lost.length > 0) await this.o.redis.sadd(STREAMS_SET, ...lost);
  }

  /** Takes over deliveries left pending by a worker that died mid-delivery, within each tenant's room. */
  private async reclaim(): Promise<void> {
    const free = this.freeSlots();
    const plan = shareSlots(this.openTenants(), free);
    const results = await this.perTenant(
      plan.map(([appid]) => appid),
      (appid, i) =>
        this.o.redis.eval(RECLAIM, 1, streamKey(appid), GROUP, this.consumer, String(this.reclaimIdleMs), String((plan[i] as [string, number])[1])) as Promise<[string, string[], number][]>,
    );
    for (const [appid, claimed] of results) for (const [id, fields, deliveries] of claimed) this.accept({ appid, id, fields, deliveries: Number(deliveries) });
  }

  /** Reports the age of each tenant's oldest queued or in-flight entry (ids are Redis server time, so is "now"). */
  private async measureBacklog(): Promise<void> {
    if (!this.o.onOldestPending) return;
    const [sec, usec] = await this.o.redis.time();
    const nowMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const firsts = await this.perTenant([...this.known], (appid) => this.o.redis.xrange(streamKey(appid), '-', '+', 'COUNT', 1));
    for (const [appid, first] of firsts) {
      const id = first[0]?.[0];
      this.o.onOldestPending(appid, id ? Math.max(0, nowMs - Number(id.split('-')[0])) / 1000 : 0);
    }
  }

  /** Drops dead letters older than the retention (their ids are their time of death on the clock); returns how many. */
  async trimDeadLetters(): Promise<number> {
    const minId = String(Math.max(0, this.o.clock.now() - this.deadRetentionMs));
    const trimmed = await this.perTenant([...this.known], (appid) => this.o.redis.xtrim(deadKey(appid), 'MINID', minId));
    return trimmed.reduce((sum, [, n]) => sum + Number(n), 0);
  }

  private accept(job: Job): void {
    this.heldBy.set(job.appid, (this.heldBy.get(job.appid) ?? 0) + 1);
    if (this.inFlight.size < this.concurrency) this.launch(job);
    else this.ready.push(job);
  }

  private launch(job: Job): void {
    const p = this.deliver(job)
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
        this.wake?.();
      });
    this.inFlight.add(p);
  }

  private async deliver({ appid, id, fields, deliveries }: Job): Promise<void> {
    const d = fromFields(fields);
    if (!d || d.appid !== appid) {
      // Never redelivered (it cannot be), never silently lost: kept aside for an operator.
      this.o.log.error({ id, appid }, 'malformed webhook queue entry moved to dead letters');
      this.o.onError?.(appid, 'malformed_entry');
      const tx = this.o.redis.multi();
      this.deadLetter(tx, appid, [...fields, 'lastError', 'malformed entry']);
      await this.checked(tx.xack(streamKey(appid), GROUP, id).xdel(streamKey(appid), id));
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
          await this.checked(this.o.redis.multi().xack(streamKey(d.appid), GROUP, id).xdel(streamKey(d.appid), id));
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
    await this.fail(id, d, attempt, error);
  }

  private async fail(id: string, d: QueuedDelivery, attempt: number, error: string): Promise<void> {
    const tx = this.o.redis.multi();
    if (attempt >= this.o.maxAttempts || error === 'tenant has no webhook') {
      this.deadLetter(tx, d.appid, toFields({ ...d, attempts: attempt }, { lastError: error, deadAt: String(this.o.clock.now()) }));
      this.o.log.warn({ appid: d.appid, deliveryId: d.deliveryId, attempts: attempt, error }, 'webhook delivery dead-lettered');
    } else {
      const delay = retryDelayMs(attempt, this.o.retryBaseMs, this.o.retryMaxMs);
      const { deliveryId, appid, message, receivedAt } = d;
      tx.zadd(retryKey(d.appid), this.o.clock.now() + delay, JSON.stringify({ deliveryId, appid, message, receivedAt, attempts: attempt, lastError: error }));
    }
    await this.checked(tx.xack(streamKey(d.appid), GROUP, id).xdel(streamKey(d.appid), id));
  }

  private deadLetter(tx: ReturnType<Redis['multi']>, appid: string, fields: string[]): void {
    tx.eval(DEAD_LETTER, 1, deadKey(appid), String(this.o.clock.now()), String(this.deadMaxLen), ...fields);
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

/** Gives each tenant in turn as many of the `free` slots as its room allows, until none are left. */
function shareSlots(open: Iterable<[string, number]>, free: number): [string, number][] {
  const plan: [string, number][] = [];
  for (const [appid, room] of open) {
    if (free <= 0) break;
    const n = Math.min(room, free);
    plan.push([appid, n]);
    free -= n;
  }
  return plan;
}
