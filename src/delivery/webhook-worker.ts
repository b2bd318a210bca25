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
  /** Time of deliveries: signatures, retry schedule, dead-letter stamps. The loop's own pacing is real time. */
  clock: Clock;
  maxAttempts: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  concurrency?: number;
  /** A delivery whose worker died is taken over after this long. */
  reclaimIdleMs?: number;
  /** ALLOW_PRIVATE_URLS: webhooks on loopback or private addresses (development and tests only). */
  allowPrivateAddresses: boolean;
}

/** Moves due retries back into the stream, atomically, so a crash in between loses nothing. */
const PROMOTE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, member in ipairs(due) do
  local f = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', 'deliveryId', f.deliveryId, 'appid', f.appid, 'message', f.message, 'attempts', tostring(f.attempts), 'receivedAt', tostring(f.receivedAt), 'lastError', f.lastError or '')
  redis.call('ZREM', KEYS[1], member)
end
return #due`;

const BLOCK_MS = 1000;
const DISCOVER_EVERY_MS = 1000;
const RECLAIM_EVERY_MS = 5000;

/**
 * Delivers queued pushes to tenant webhooks. Every gateway instance runs one worker; they share the
 * work through one consumer group per tenant stream. A delivery is acknowledged only after the
 * webhook answered 2xx (at least once); a failure goes to a retry schedule with exponential
 * backoff, and after maxAttempts to the tenant's dead-letter stream.
 */
export class WebhookWorker {
  private readonly consumer = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly httpClient: AxiosInstance;
  private readonly known = new Set<string>();
  private running = false;
  private loop?: Promise<void>;
  private inFlight = new Set<Promise<void>>();
  private lastDiscover = 0;
  private lastReclaim = 0;
  private errorLogged = false;

  constructor(private readonly o: WebhookWorkerOptions) {
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
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
        this.errorLogged = false;
      } catch (err) {
        if (!this.running) break;
        if (!this.errorLogged) this.o.log.warn({ err: (err as Error).message }, 'webhook worker paused: redis unavailable');
        this.errorLogged = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async tick(): Promise<void> {
    const paceNow = Date.now();
    if (paceNow - this.lastDiscover >= DISCOVER_EVERY_MS) {
      await this.discover();
      this.lastDiscover = paceNow;
    }
    await this.promoteDue();
    if (paceNow - this.lastReclaim >= RECLAIM_EVERY_MS) {
      await this.reclaim();
      this.lastReclaim = paceNow;
    }
    const capacity = (this.o.concurrency ?? 16) - this.inFlight.size;
    if (this.known.size === 0 || capacity <= 0) {
      await new Promise((r) => setTimeout(r, capacity <= 0 ? 20 : 200));
      return;
    }
    const keys = [...this.known].map(streamKey);
    const res = (await this.o.blocking.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', capacity, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...keys.map(() => '>'))) as
      [string, [string, string[]][]][] | null;
    for (const [stream, entries] of res ?? []) for (const [id, fields] of entries) this.dispatch(appidOfStream(stream), id, fields);
  }

  /** Moves every retry that is due by the clock back into its stream. */
  async promoteDue(): Promise<void> {
    const now = this.o.clock.now();
    for (const appid of this.known) await this.o.redis.eval(PROMOTE_DUE, 2, retryKey(appid), streamKey(appid), String(now));
  }

  private async discover(): Promise<void> {
    for (const appid of await this.o.redis.smembers(STREAMS_SET)) {
      if (this.known.has(appid)) continue;
      try {
        // From '0', so entries queued before any worker existed are delivered too.
        await this.o.redis.xgroup('CREATE', streamKey(appid), GROUP, '0', 'MKSTREAM');
      } catch (err) {
        if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
      }
      this.known.add(appid);
    }
  }

  /** Takes over deliveries left pending by a worker that died mid-delivery. */
  private async reclaim(): Promise<void> {
    for (const appid of this.known) {
      // Idle longer than any delivery can take, so a slow delivery is never taken over mid-flight.
      const minIdle = this.o.reclaimIdleMs ?? Math.max(30_000, 2 * this.o.timeoutMs + 5_000);
      const res = (await this.o.redis.xautoclaim(streamKey(appid), GROUP, this.consumer, minIdle, '0-0', 'COUNT', 50)) as [string, [string, string[] | null][]];
      for (const [id, fields] of res[1] ?? []) if (fields) this.dispatch(appid, id, fields);
    }
  }

  private dispatch(appid: string, id: string, fields: string[]): void {
    const p = this.deliver(appid, id, fields)
      .catch((err: unknown) => this.o.log.error({ err: (err as Error).message, id }, 'webhook delivery bookkeeping failed; it will be retried'))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(appid: string, id: string, fields: string[]): Promise<void> {
    const d = fromFields(fields);
    if (!d || d.appid !== appid) {
      // Never redelivered (it cannot be), never silently lost: kept aside for an operator.
      this.o.log.error({ id, appid }, 'malformed webhook queue entry moved to dead letters');
      await this.checked(
        this.o.redis
          .multi()
          .xadd(deadKey(appid), '*', ...fields, 'lastError', 'malformed entry')
          .xack(streamKey(appid), GROUP, id)
          .xdel(streamKey(appid), id),
      );
      return;
    }
    const tenant = await this.o.resolveTenant(d.appid);
    const webhook = tenant ? webhookSection.of(tenant).webhook : undefined;
    const attempt = d.attempts + 1;
    let error: string;
    if (!webhook) {
      error = 'tenant has no webhook';
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
      } catch (err) {
        error = (err as { code?: string }).code ?? (err as Error).message;
      }
    }
    await this.fail(id, d, attempt, error);
  }

  private async fail(id: string, d: QueuedDelivery, attempt: number, error: string): Promise<void> {
    const tx = this.o.redis.multi();
    if (attempt >= this.o.maxAttempts || error === 'tenant has no webhook') {
      tx.xadd(deadKey(d.appid), '*', ...toFields({ ...d, attempts: attempt }, { lastError: error, deadAt: String(this.o.clock.now()) }));
      this.o.log.warn({ appid: d.appid, deliveryId: d.deliveryId, attempts: attempt, error }, 'webhook delivery dead-lettered');
    } else {
      const delay = retryDelayMs(attempt, this.o.retryBaseMs, this.o.retryMaxMs);
      const { deliveryId, appid, message, receivedAt } = d;
      tx.zadd(retryKey(d.appid), this.o.clock.now() + delay, JSON.stringify({ deliveryId, appid, message, receivedAt, attempts: attempt, lastError: error }));
    }
    await this.checked(tx.xack(streamKey(d.appid), GROUP, id).xdel(streamKey(d.appid), id));
  }

  /** Runs a transaction and fails if any command in it failed (the entry then stays pending and is retried). */
  private async checked(tx: ReturnType<Redis['multi']>): Promise<void> {
    const res = await tx.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
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
