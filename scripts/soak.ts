/**
 * `npm run soak -- --minutes 10`: a soak test against a real fleet on this machine (loopback only),
 * outside `npm test`. It starts its own Redis (append-only), MongoDB-wire server, WeChat sandbox and
 * webhook receiver, three gateway processes and 1 000 tenants with webhooks, drives a moderate steady
 * mix (central token reads, passthrough calls, encrypted pushes, logins with a profile read) for the
 * given time, and prints every 30 s and at the end:
 *
 *   RSS per instance, and the growth of its highest RSS from the first to the last third of the
 *   time after the warm-up (sampled every second; target < 10 %),
 *   event-loop lag p99 per instance from its /metrics (target < 50 ms),
 *   answers other than 2xx by status and code (target: no 5xx, no transport error),
 *   pushes accepted vs delivered to the webhook receiver after the drain (target: none lost).
 *
 * Exit code 1 when a target is missed. Figures depend on the machine: run it on a quiet one.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildPush, samplePush } from '../src/sandbox/push-simulator';
import { startTestMongo, type TestMongo } from '../src/devstack/mongo-server';
import { TestRedis } from '../src/devstack/redis-server';
import { connectMongo } from '../src/infra/mongo';
import { SecretBox } from '../src/tenancy/secret-box';
import { TenantRepository } from '../src/tenancy/tenant-repository';
import { ServiceKeys } from '../src/auth/service-keys';
import { parseTenantDefinition, tenantSections } from '../src/composition/features';
import { METRIC } from '../src/ops/metrics';
import { startChild, mainScript, benchScript, type Child } from './bench/child';
import { httpCall, type Answer } from './support/http-call';
import { GATEWAY_NODE_FLAGS } from '../src/devstack/node-flags';

export const SOAK_HELP = `Usage: npm run soak [-- --minutes N] [-- --tenants N] [-- --rate N]

Soak test: 3 local gateway processes (own Redis, MongoDB, WeChat sandbox, webhook receiver), N tenants
with webhooks, a steady mix of token reads, passthrough calls, encrypted pushes and logins. Prints RSS
and event-loop lag p99 per instance, answers by status and code, pushes lost, every 30 s; at the end
also each instance's highest RSS in the first and in the last third after the warm-up. Exit code 1
when a target is missed (that RSS growth < 10 %, lag p99 < 50 ms, no 5xx, no push lost).
  --minutes N   how long the traffic runs (default 10; the first quarter, at most 2 min, is warm-up)
  --tenants N   tenants seeded (default 1000)
  --rate N      requests per second over the whole mix (default 40)`;

const GATEWAYS = 3;
const REPORT_EVERY_MS = 30_000;
const DELIVERY_WAIT_MS = 60_000;
const SEED_CONCURRENCY = 8;
/** Most requests of one kind in flight: beyond it a tick is skipped (and counted), so a slow fleet is not buried. */
const MAX_INFLIGHT = 200;
const WEBHOOK_SECRET = 'soak-webhook-secret-0123456789ab';
/** Shares of --rate: pushes, token reads, passthrough calls, logins (each login is followed by a profile read). */
const MIX = { push: 0.3, token: 0.3, passthrough: 0.2, login: 0.1 } as const;

export const TARGETS = { rssGrowthPct: 10, lagP99Ms: 50 } as const;

interface Tenant {
  appid: string;
  token: string;
  aesKey: string;
  key: string;
}

/** The tenants' backend: counts deliveries per push. */
class Receiver {
  readonly seen = new Map<string, number>();
  private server?: http.Server;
  url = '';
  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message: { fromUser?: string; msgId?: string } };
          const k = `${body.message.fromUser}/${body.message.msgId}`;
          this.seen.set(k, (this.seen.get(k) ?? 0) + 1);
        } catch {
          // not a push delivery
        }
        res.writeHead(200).end('ok');
      });
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request with a deadline; never throws. */
const call = (url: string, init: RequestInit, timeoutMs = 10_000): Promise<Answer> => httpCall(url, init, timeoutMs);

class Traffic {
  sent = 0;
  ok = 0;
  skipped = 0;
  /** Non-2xx answers and transport errors, by "status code" or "transport error". */
  readonly errors = new Map<string, number>();
  readonly accepted = new Set<string>();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private seq = 0;

  constructor(
    private readonly gateways: Child[],
    private readonly tenants: Tenant[],
  ) {}

  start(rate: number): void {
    for (const [kind, share] of Object.entries(MIX) as [keyof typeof MIX, number][]) {
      const fn = { push: () => this.push(), token: () => this.token(), passthrough: () => this.passthrough(), login: () => this.login() }[kind];
      this.loops.push(this.every(1000 / (rate * share), fn));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get fivexx(): number {
    return [...this.errors].filter(([k]) => /^5/.test(k)).reduce((n, [, v]) => n + v, 0);
  }
  get transport(): number {
    return [...this.errors].filter(([k]) => k.startsWith('transport')).reduce((n, [, v]) => n + v, 0);
  }

  /** Round robin over the instances, like a load balancer. */
  private gw(): Child {
    return this.gateways[this.seq++ % this.gateways.length]!;
  }
  private tenant(): Tenant {
    return this.tenants[Math.floor(Math.random() * this.tenants.length)]!;
  }

  private count(r: Answer): boolean {
    this.sent++;
    const key = 'error' in r ? `transport ${r.error}` : r.status >= 200 && r.status < 300 ? undefined : `${r.status} ${r.code ?? '-'}`;
    if (key === undefined) {
      this.ok++;
      return true;
    }
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    return false;
  }

  /** Starts fn every `ms` on a fixed schedule (not after the previous one ends), so the rate stays steady. */
  private async every(ms: number, fn: () => Promise<void>): Promise<void> {
    const inflight = new Set<Promise<void>>();
    let next = Date.now();
    while (this.running) {
      if (inflight.size >= MAX_INFLIGHT) this.skipped++;
      else {
        const p = fn().finally(() => inflight.delete(p));
        inflight.add(p);
      }
      next += ms;
      await sleep(Math.max(0, next - Date.now()));
    }
    await Promise.all(inflight);
  }

  /** An encrypted (safe mode) text push; like WeChat, up to 3 attempts, the next to another instance. */
  private async push(): Promise<void> {
    const t = this.tenant();
    const n = this.seq++;
    const fromUser = `o-soak-${n}`;
    const msgId = String(8_000_000_000 + n);
    const p = buildPush(t, samplePush('text', { fromUser, content: `soak ${n}`, overrides: { MsgId: msgId } }), { format: 'xml', mode: 'safe' });
    const qs = new URLSearchParams(p.query).toString();
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await call(`${this.gw().url}/${t.appid}/portal?${qs}`, { method: 'POST', body: p.body, headers: { 'content-type': p.contentType } });
      if (this.count(r)) {
        this.accepted.add(`${fromUser}/${msgId}`);
        return;
      }
      await sleep(1000);
    }
  }

  private async token(): Promise<void> {
    const t = this.tenant();
    this.count(await call(`${this.gw().url}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${t.key}` } }));
  }

  private async passthrough(): Promise<void> {
    const t = this.tenant();
    this.count(
      await call(`${this.gw().url}/${t.appid}/wxapi/wxa/generate_urllink`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'pages/index/index' }),
      }),
    );
  }

  private async login(): Promise<void> {
    const t = this.tenant();
    const r = await call(`${this.gw().url}/${t.appid}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: `test:u${randomBytes(3).toString('hex')}` }),
    });
    if (!this.count(r) || 'error' in r) return;
    const token = (JSON.parse(r.text) as { token: string }).token;
    this.count(await call(`${this.gw().url}/${t.appid}/users/me`, { headers: { authorization: `Bearer ${token}` } }));
  }
}

/** Resident set size of a process, in bytes (Linux /proc); NaN once it has exited. */
function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** RSS readings of each instance, one per second, to take the highest of a stretch of time. */
class RssSamples {
  private readonly samples: { at: number; rss: number[] }[] = [];
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: number[]) {
    this.timer = setInterval(() => this.samples.push({ at: Date.now(), rss: this.pids.map(rssOf) }), 1000);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  /** Each instance's highest RSS in [from, to) (NaN when it exited in it). */
  highest(from: number, to: number): number[] {
    return this.pids.map((_, i) => this.samples.filter((s) => s.at >= from && s.at < to).reduce((m, s) => (Number.isNaN(m) || Number.isNaN(s.rss[i]!) ? NaN : Math.max(m, s.rss[i]!)), 0));
  }
}

/**
 * What a gateway said that matters after a crash: its stderr, and its log lines at error level and
 * above (pino: level 50 and 60); the last 30 of them.
 */
class LastWords {
  readonly lines: string[] = [];
  exit?: string;
  constructor(g: Child) {
    let partial = '';
    const take = (chunk: Buffer, all: boolean) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (all || /"level":(50|60)/.test(line)) this.lines.push(line.slice(0, 2000));
      this.lines.splice(0, Math.max(0, this.lines.length - 30));
    };
    g.proc.stdout?.on('data', (c: Buffer) => take(c, false));
    g.proc.stderr?.on('data', (c: Buffer) => take(c, true));
    g.proc.once('exit', (code, signal) => (this.exit = signal ? `signal ${signal}` : `exit code ${code}`));
  }
}

/**
 * Event-loop lag p99 of one instance (ms) and its V8 heap in use, from its /metrics. prom-client resets
 * the delay histogram at every scrape, so each lag reading covers the time since the previous one.
 */
async function readMetrics(gw: Child): Promise<{ lagP99Ms: number; heapUsed: number }> {
  const r = await call(`${gw.url}/metrics`, {});
  if ('error' in r || r.status !== 200) return { lagP99Ms: NaN, heapUsed: NaN };
  const value = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(r.text)?.[1] ?? NaN);
  return { lagP99Ms: value(METRIC.eventLoopLagP99) * 1000, heapUsed: value(METRIC.heapUsed) };
}

interface InstanceStats {
  baseRss?: number;
  rss: number;
  /** Highest RSS the process has had (VmHWM): what the target is checked on. */
  lagNow: number;
  /** V8 heap in use (`nodejs_heap_size_used_bytes`): tells a growing heap from a growing RSS. */
  heapUsed: number;
  /** Highest p99 of a reading window after the warm-up. */
  lagMax: number;
}

const mb = (b: number) => (b / 1048576).toFixed(1) + ' MB';
const pct = (now: number, base: number | undefined) => (base === undefined ? '-' : `${(((now - base) / base) * 100).toFixed(1)} %`);
const clock = (ms: number) => `${Math.floor(ms / 60000)}m${String(Math.floor((ms % 60000) / 1000)).padStart(2, '0')}s`;

function report(elapsedMs: number, traffic: Traffic, receiver: Receiver, stats: InstanceStats[], phase: string): string {
  const rate = traffic.sent / Math.max(1, elapsedMs / 1000);
  const delivered = [...traffic.accepted].filter((k) => receiver.seen.has(k)).length;
  const errs = [...traffic.errors].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`);
  const lines = [
    `[${clock(elapsedMs)} ${phase}] requests ${traffic.sent} (${rate.toFixed(1)}/s), 2xx ${traffic.ok}, 5xx ${traffic.fivexx}, transport errors ${traffic.transport}` +
      (traffic.skipped ? `, ticks skipped (too many in flight) ${traffic.skipped}` : ''),
    `  other answers: ${errs.length ? errs.join(', ') : 'none'}`,
    `  pushes accepted ${traffic.accepted.size}, delivered ${delivered}`,
    ...stats.map((s, i) =>
      Number.isNaN(s.rss)
        ? `  gateway ${i + 1}: exited`
        : `  gateway ${i + 1}: RSS ${mb(s.rss)} (since warm-up ${pct(s.rss, s.baseRss)}), heap used ${mb(s.heapUsed)}, event-loop lag p99 ${s.lagNow.toFixed(1)} ms (max after warm-up ${s.lagMax.toFixed(1)} ms)`,
    ),
  ];
  return lines.join('\n') + '\n';
}

function parseArgs(args: string[]): { minutes: number; tenants: number; rate: number } | 'help' {
  if (args.includes('--help') || args.includes('-h')) return 'help';
  const out = { minutes: 10, tenants: 1000, rate: 40 };
  const limits: Record<string, [keyof typeof out, number, number]> = {
    '--minutes': ['minutes', 0.5, 240],
    '--tenants': ['tenants', 1, 100_000],
    '--rate': ['rate', 1, 5000],
  };
  for (let i = 0; i < args.length; i++) {
    const spec = limits[args[i]!];
    if (!spec) throw new Error(`unknown option ${args[i]}; see --help`);
    const v = Number(args[++i]);
    if (!Number.isFinite(v) || v < spec[1] || v > spec[2]) throw new Error(`${args[i - 1]} takes a number from ${spec[1]} to ${spec[2]}`);
    out[spec[0]] = v;
  }
  return out;
}

/** The in-memory test MongoDB can stall for seconds on a loaded machine; seeding retries rather than give up. */
let seedRetries = 0;
async function retry<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      seedRetries++;
      await sleep(Math.min(5000, 500 * i));
    }
  }
}

async function seed(mongoUri: string, secretsKey: string, count: number, register: (appid: string, secret: string) => Promise<void>, apiBase: string, webhook: string): Promise<Tenant[]> {
  const conn = await connectMongo(mongoUri);
  const keys = new ServiceKeys(conn);
  try {
    const repo = new TenantRepository(conn, new SecretBox(secretsKey), tenantSections);
    await repo.ensureIndexes();
    await keys.ensureIndexes();
    const tenants: Tenant[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const appid = 'wx' + randomBytes(8).toString('hex');
        const secret = randomBytes(16).toString('hex');
        const token = 'soak' + randomBytes(4).toString('hex');
        const aesKey = randomBytes(32).toString('base64').slice(0, 43);
        await retry(() => register(appid, secret));
        const def = parseTenantDefinition(
          { appid, name: `soak ${i}`, secret, token, aesKey, msgFormat: 'xml', apiBase, webhook: { url: webhook, secret: WEBHOOK_SECRET } },
          'soak',
          // The sandbox and the webhook receiver listen on 127.0.0.1.
          { allowPrivateUrls: true },
        );
        await retry(() => repo.upsert(def));
        tenants.push({ appid, token, aesKey, key: (await retry(() => keys.create(appid, 'soak'))).key });
      }
    };
    await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
    return tenants;
  } finally {
    keys.close();
    await conn.close();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts === 'help') {
    process.stdout.write(SOAK_HELP + '\n');
    return;
  }
  const durationMs = opts.minutes * 60_000;
  // Long enough for every tenant to have been served by every instance (caches, tokens, sessions filled).
  const warmupMs = Math.min(120_000, durationMs / 4);
  const say = (s: string) => process.stdout.write(s);

  const redis = new TestRedis(undefined, mkdtempSync(path.join(os.tmpdir(), 'wxgate-soak-redis-')));
  let mongo: TestMongo | undefined;
  const receiver = new Receiver();
  const gateways: Child[] = [];
  let sbx: Child | undefined;
  let stopping = false;
  const cleanup = async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await receiver.stop();
    await sbx?.stop();
    await mongo?.stop();
    await redis.stop();
  };
  process.once('SIGINT', () => {
    if (stopping) return;
    stopping = true;
    say('\ninterrupted: stopping the fleet\n');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    await redis.start();
    mongo = await startTestMongo();
    // The WeChat sandbox in a process of its own, as WeChat is: the load generator does not slow it down.
    sbx = await startChild(benchScript('sandbox-server'), {});
    const sandboxUrl = sbx.url;
    await receiver.start();
    const secretsKey = randomBytes(32).toString('base64');
    let t0 = Date.now();
    const tenants = await seed(
      mongo.uri,
      secretsKey,
      opts.tenants,
      async (appid, secret) => {
        const r = await call(`${sandboxUrl}/__sandbox/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appid, secret }) });
        if ('error' in r || r.status >= 300) throw new Error(`sandbox: app not registered: ${JSON.stringify(r)}`);
      },
      sbx.url,
      receiver.url,
    );
    say(`seeded ${tenants.length} tenants with webhooks in ${((Date.now() - t0) / 1000).toFixed(1)} s (${seedRetries} MongoDB writes retried)\n`);
    const spoolRoot = mkdtempSync(path.join(os.tmpdir(), 'wxgate-soak-spool-'));
    for (let i = 0; i < GATEWAYS; i++) {
      gateways.push(
        await startChild(
          mainScript(),
          {
            PORT: '0',
            HOST: '127.0.0.1',
            WXGATE_ANNOUNCE_PORT: '1',
            MONGODB_URI: mongo.uri,
            REDIS_URL: redis.url,
            SECRETS_KEY: secretsKey,
            ADMIN_TOKEN: randomBytes(18).toString('hex'),
            // Production's level: the access log is part of what runs for ten minutes.
            LOG_LEVEL: 'info',
            ALLOW_PRIVATE_URLS: 'true',
            SPOOL_DIR: path.join(spoolRoot, `gw${i}`),
          },
          /WXGATE_LISTENING (\d+)/,
          // stdout is read for error-level lines (LastWords), not kept.
          false,
          GATEWAY_NODE_FLAGS,
        ),
      );
    }
    const lastWords = gateways.map((g) => new LastWords(g));
    say(
      `3 gateways up; traffic ${opts.rate}/s (pushes ${MIX.push * 100} %, token reads ${MIX.token * 100} %, passthrough ${MIX.passthrough * 100} %, logins ${MIX.login * 100} % + a profile read each) ` +
        `for ${opts.minutes} min, warm-up ${Math.round(warmupMs / 1000)} s\n`,
    );

    const stats: InstanceStats[] = gateways.map(() => ({ rss: 0, lagNow: 0, lagMax: 0, heapUsed: NaN }));
    const sample = async (afterWarmup: boolean) => {
      await Promise.all(
        gateways.map(async (g, i) => {
          const s = stats[i]!;
          s.rss = rssOf(g.proc.pid!);
          ({ lagP99Ms: s.lagNow, heapUsed: s.heapUsed } = await readMetrics(g));
          if (afterWarmup) s.lagMax = Math.max(s.lagMax, Number.isNaN(s.lagNow) ? Infinity : s.lagNow);
        }),
      );
    };

    const rssSamples = new RssSamples(gateways.map((g) => g.proc.pid!));
    const traffic = new Traffic(gateways, tenants);
    t0 = Date.now();
    traffic.start(opts.rate);
    await sleep(warmupMs);
    const warmedUp = Date.now();
    // The warm-up reading resets the lag histograms and fixes the RSS baseline printed every 30 s.
    await sample(false);
    for (const s of stats) s.baseRss = s.rss;
    say(report(warmedUp - t0, traffic, receiver, stats, 'warm-up done'));
    let nextReport = warmedUp + REPORT_EVERY_MS;
    while (Date.now() < t0 + durationMs) {
      await sleep(Math.max(0, Math.min(nextReport, t0 + durationMs) - Date.now()));
      if (Date.now() >= nextReport) {
        await sample(true);
        say(report(Date.now() - t0, traffic, receiver, stats, 'running'));
        nextReport += REPORT_EVERY_MS;
      }
    }
    await sample(true);
    const elapsed = Date.now() - t0;
    rssSamples.stop();
    // The target compares the highest RSS of the first third after the warm-up with that of the last
    // third: when allocation is slow V8 hands an idle semi-space back and takes it again later, which
    // moves a single reading by up to 100 MB either way, while a leak raises the highest reading of
    // the later stretch all the same.
    const third = (t0 + elapsed - warmedUp) / 3;
    const early = rssSamples.highest(warmedUp, warmedUp + third);
    const late = rssSamples.highest(t0 + elapsed - third, t0 + elapsed + 1);
    await traffic.stop();
    say(`traffic stopped after ${clock(elapsed)}; waiting up to ${DELIVERY_WAIT_MS / 1000} s for deliveries\n`);
    const deadline = Date.now() + DELIVERY_WAIT_MS;
    while (Date.now() < deadline && [...traffic.accepted].some((k) => !receiver.seen.has(k))) await sleep(250);
    say(report(elapsed, traffic, receiver, stats, 'end'));
    say(`  highest RSS, first third after the warm-up -> last third: ` + early.map((e, i) => `gateway ${i + 1} ${mb(e)} -> ${mb(late[i]!)} (${pct(late[i]!, e)})`).join(', ') + '\n');

    const died = lastWords.map((w, i) => [i + 1, w] as const).filter(([, w]) => w.exit !== undefined);
    for (const [i, w] of died) say(`\ngateway ${i} exited during the soak (${w.exit}); its last error lines:\n${w.lines.join('\n') || '(none)'}\n`);
    const errorLines = lastWords.reduce((n, w) => n + w.lines.length, 0);
    if (errorLines && !died.length) say(`\nerror-level log lines (last 30 per gateway):\n${lastWords.flatMap((w) => w.lines).join('\n')}\n`);
    const lost = [...traffic.accepted].filter((k) => !receiver.seen.has(k)).length;
    const growth = Math.max(...early.map((e, i) => ((late[i]! - e) / e) * 100));
    const lag = Math.max(...stats.map((s) => s.lagMax));
    const checks: [string, boolean, string][] = [
      [`RSS growth per instance (highest of the last third over highest of the first) < ${TARGETS.rssGrowthPct} %`, growth < TARGETS.rssGrowthPct, `highest ${growth.toFixed(1)} %`],
      [`event-loop lag p99 < ${TARGETS.lagP99Ms} ms`, lag < TARGETS.lagP99Ms, `highest ${lag.toFixed(1)} ms`],
      ['no 5xx', traffic.fivexx === 0, `${traffic.fivexx}`],
      ['no transport error (timeout, reset)', traffic.transport === 0, `${traffic.transport}`],
      ['no push lost', lost === 0, `${traffic.accepted.size} accepted, ${lost} lost`],
      ['every gateway up to the end', died.length === 0, died.length ? died.map(([i, w]) => `gateway ${i}: ${w.exit}`).join(', ') : 'yes'],
    ];
    say('\ntargets:\n' + checks.map(([what, ok, got]) => `  ${ok ? 'PASS' : 'FAIL'}  ${what}: ${got}`).join('\n') + '\n');
    if (checks.some(([, ok]) => !ok)) process.exitCode = 1;
  } finally {
    if (!stopping) {
      stopping = true;
      await cleanup();
    }
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(),
    (err: unknown) => {
      process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(2);
    },
  );
}
