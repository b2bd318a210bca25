import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis as IORedis } from 'ioredis';
import { benchStores, type BenchStores } from './stores';
import { mainScript, startChild, type Child } from './child';
import { gcProbeFile } from './gc-probe';
import { connectMongo } from '../../src/infra/mongo';
import { createRedis, connectRedis } from '../../src/infra/redis';
import { createLogger } from '../../src/kernel/log';
import { InvalidationBus } from '../../src/cache/invalidation-bus';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TenantRepository } from '../../src/tenancy/tenant-repository';
import { TenantResolver } from '../../src/tenancy/tenant-resolver';
import { tenantSections } from '../../src/composition/features';
import { GATEWAY_NODE_FLAGS } from '../../src/devstack/node-flags';

/**
 * The 100 000-tenant figures of the scale issue:
 *  (a) `tenants -- apply` of a generated 100 000-tenant file (the real CLI, a child process), then
 *      the same file again (idempotent: nothing written);
 *  (b) gateway RSS after serving 10 000 and then 100 000 distinct tenants (GET /:appid), with
 *      TENANT_CACHE_MAX at its default: the in-process cache holds at most that many, so RSS stops
 *      following the tenant count; and L1-hit resolution p50/p99 of the resolver, in-process;
 *  (c) the Redis commands per second one idle gateway causes with 10 000 webhook tenants
 *      (INFO total_commands_processed over a window, less the measurer's own INFO calls).
 */
export async function benchScale(opts: { tenants?: number; idleSeconds?: number } = {}): Promise<string> {
  const count = opts.tenants ?? 100_000;
  const idleSeconds = Math.max(10, opts.idleSeconds ?? 15);
  const stores = await benchStores();
  const lines: string[] = [];
  // Each figure is also told as soon as it is known (stderr): the whole run takes minutes.
  const say = (line: string) => {
    lines.push(line);
    process.stderr.write(`${line}\n`);
  };
  say(`scale: ${count} tenants (${os.cpus().length} cores, node ${process.version})`);
  try {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxgate-scale-'));
    const file = path.join(dir, 'tenants.json');
    const appids = generateTenantFile(file, count);
    const first = await timedApply(stores, file);
    say(
      `(a) tenants -- apply of ${count} new tenants: ${(first.ms / 1000).toFixed(1)} s (limit 300 s); CPU: CLI ${first.cliCpuS.toFixed(1)} s, test MongoDB ${first.mongoCpuS.toFixed(1)} s`,
    );
    const again = await timedApply(stores, file);
    say(
      `    the same file again (all unchanged): ${(again.ms / 1000).toFixed(1)} s, ${again.unchanged} unchanged; CPU: CLI ${again.cliCpuS.toFixed(1)} s, test MongoDB ${again.mongoCpuS.toFixed(1)} s`,
    );
    say(`    load average while it ran: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);

    const rss = await servedRss(stores, appids, [10_000, count]);
    for (const r of rss.points) {
      say(
        `(b) gateway after serving ${r.served} distinct tenants: RSS ${r.rssMb.toFixed(0)} MB as found, ${r.gcRssMb.toFixed(0)} MB after a forced GC (heapUsed ${r.gcHeapMb.toFixed(1)} MB) (tenant cache ${r.cacheSize} entries, TENANT_CACHE_MAX default)`,
      );
    }
    say(
      `    gateway at start: RSS ${rss.start.rssMb.toFixed(0)} MB, ${rss.start.gcRssMb.toFixed(0)} MB after a forced GC (heapUsed ${rss.start.gcHeapMb.toFixed(1)} MB); ${rss.errors} requests not answered 200`,
    );
    const l1 = await l1ResolutionMicros(stores, appids.slice(0, 1000));
    say(`    L1-hit resolution: p50 ${l1.p50.toFixed(2)} µs, p99 ${l1.p99.toFixed(2)} µs over ${l1.n} resolves (limit p99 < 100 µs)`);

    const idle = await idleRedisRate(stores, appids.slice(0, 10_000), dir, idleSeconds);
    say(`(c) idle gateway, 10 000 webhook tenants: ${idle.perSecond.toFixed(1)} Redis commands/s over ${idle.seconds} s (issue limit < 50/s)`);
  } finally {
    await stores.stop();
  }
  return lines.join('\n');
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** A tenant file of `count` AppSecret tenants with distinct appids (wx + 16 hex digits). */
function generateTenantFile(file: string, count: number): string[] {
  const appids: string[] = [];
  const defs: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const appid = `wxca1e${hex(i, 12)}`;
    appids.push(appid);
    defs.push({
      appid,
      name: `scale tenant ${i}`,
      secret: randomBytes(16).toString('hex'),
      token: `tok${hex(i, 8)}`,
      aesKey: randomBytes(32).toString('base64').slice(0, 43),
      tokenMode: 'stable',
      status: 'active',
    });
  }
  writeFileSync(file, JSON.stringify(defs));
  return appids;
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function runCli(stores: BenchStores, args: string[]): Promise<{ code: number; stdout: string; stderr: string; cpuS: number }> {
  const proc = spawn(process.execPath, [path.join(__dirname, '../tenants.js'), ...args], {
    env: { ...process.env, MONGODB_URI: stores.mongoUri, REDIS_URL: stores.redisUrl, SECRETS_KEY: stores.secretsKey, ALLOW_PRIVATE_URLS: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // The machine may be shared: the CLI's own CPU time says more than the wall clock. Sampled
  // until it exits (the last sample misses at most the final 100 ms).
  let cpuS = 0;
  const sampler = setInterval(() => (cpuS = Math.max(cpuS, cpuSeconds(proc.pid))), 100);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearInterval(sampler);
      resolve({ code: code ?? 1, stdout, stderr, cpuS });
    }),
  );
}

async function timedApply(stores: BenchStores, file: string): Promise<{ ms: number; unchanged: number; cliCpuS: number; mongoCpuS: number }> {
  const mongo0 = cpuSeconds(stores.pids.mongo);
  const t0 = performance.now();
  const r = await runCli(stores, ['apply', file]);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`tenants apply exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return { ms, unchanged: r.stdout.split('\n').filter((l) => l.includes(' unchanged ')).length, cliCpuS: r.cpuS, mongoCpuS: cpuSeconds(stores.pids.mongo) - mongo0 };
}

function gatewayEnv(stores: BenchStores, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    WXGATE_ANNOUNCE_PORT: '1',
    MONGODB_URI: stores.mongoUri,
    REDIS_URL: stores.redisUrl,
    SECRETS_KEY: stores.secretsKey,
    ADMIN_TOKEN: randomBytes(18).toString('hex'),
    METRICS_TOKEN: '',
    LOG_LEVEL: 'warn',
    SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'wxgate-scale-spool-')),
    ALLOW_PRIVATE_URLS: 'true',
    // The RSS measured is the tenant cache's, not tenants' entries in a cache of a minute's TTL.
    TENANT_CACHE_TTL_S: '3600',
    ...extra,
  };
}

function startGateway(stores: BenchStores, extra: Record<string, string> = {}): Promise<Child> {
  const env = gatewayEnv(stores, extra);
  if (env.METRICS_TOKEN === '') delete env.METRICS_TOKEN;
  return startChild(mainScript(), env, /WXGATE_LISTENING (\d+)/, true, GATEWAY_NODE_FLAGS);
}

const rssMb = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

type MemPoint = { rssMb: number; gcRssMb: number; gcHeapMb: number };

/**
 * RSS as found (what the issue names; it includes garbage V8 has not collected yet), then RSS and
 * heapUsed after a full GC the gc-probe preload runs on SIGUSR2 (what the process holds).
 */
async function memPoint(pid: number): Promise<MemPoint> {
  const rss = rssMb(pid);
  const file = gcProbeFile(pid);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 300 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  const usage = JSON.parse(readFileSync(file, 'utf8')) as { heapUsed: number };
  rmSync(file, { force: true });
  return { rssMb: rss, gcRssMb: rssMb(pid), gcHeapMb: usage.heapUsed / 1024 / 1024 };
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** GET /:appid for each tenant in turn (32 in flight), RSS read after each point of `marks`. */
async function servedRss(stores: BenchStores, appids: string[], marks: number[]): Promise<{ start: MemPoint; points: (MemPoint & { served: number; cacheSize: number })[]; errors: number }> {
  const probe = `--expose-gc --require ${path.join(__dirname, 'gc-probe.js')}`;
  const gw = await startGateway(stores, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${probe}`.trim() });
  try {
    const pid = gw.proc.pid!;
    const start = await memPoint(pid);
    const points: (MemPoint & { served: number; cacheSize: number })[] = [];
    let next = 0;
    let errors = 0;
    for (const mark of marks) {
      const end = Math.min(mark, appids.length);
      const worker = async () => {
        while (next < end) {
          const appid = appids[next++]!;
          const r = await fetch(`${gw.url}/${appid}`);
          await r.arrayBuffer();
          if (r.status !== 200) errors++;
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      // Garbage the collector has not come to yet is not what the bound is about: settle first.
      await new Promise((r) => setTimeout(r, 2000));
      points.push({ served: end, ...(await memPoint(pid)), cacheSize: await metricValue(gw.url, 'wxgate_tenant_cache_size') });
    }
    return { start, points, errors };
  } finally {
    await gw.stop();
  }
}

/** Resolves tenants that are all in L1, in-process, and times each call. */
async function l1ResolutionMicros(stores: BenchStores, appids: string[]): Promise<{ p50: number; p99: number; n: number }> {
  const log = createLogger('silent');
  const mongo = await connectMongo(stores.mongoUri);
  const redis = createRedis(stores.redisUrl, log, 'bench');
  const sub = createRedis(stores.redisUrl, log, 'bench-sub');
  await Promise.all([connectRedis(redis), connectRedis(sub)]);
  try {
    const repo = new TenantRepository(mongo, new SecretBox(stores.secretsKey), tenantSections);
    const bus = new InvalidationBus(redis, sub, log);
    const resolver = new TenantResolver(repo, redis, bus, log, { ttlSeconds: 3600, maxEntries: 10_000 });
    for (const a of appids) await resolver.resolve(a);
    const samples: number[] = [];
    for (let round = 0; round < 20; round++) {
      for (const a of appids) {
        const t0 = performance.now();
        await resolver.resolve(a);
        samples.push((performance.now() - t0) * 1000);
      }
    }
    resolver.close();
    samples.sort((x, y) => x - y);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
    return { p50: at(0.5), p99: at(0.99), n: samples.length };
  } finally {
    sub.disconnect();
    redis.disconnect();
    await mongo.close();
  }
}

/** Gives `appids` a webhook, starts one gateway, lets it settle, then counts Redis commands while it idles. */
async function idleRedisRate(stores: BenchStores, appids: string[], dir: string, seconds: number): Promise<{ perSecond: number; seconds: number }> {
  const file = path.join(dir, 'webhook-tenants.json');
  const raw = JSON.parse(readFileSync(path.join(dir, 'tenants.json'), 'utf8')) as Record<string, unknown>[];
  const wanted = new Set(appids);
  const defs = raw.filter((d) => wanted.has(d.appid as string)).map((d) => ({ ...d, webhook: { url: 'http://127.0.0.1:9/hook', secret: randomBytes(16).toString('hex') } }));
  writeFileSync(file, JSON.stringify(defs));
  const r = await runCli(stores, ['apply', file]);
  if (r.code !== 0) throw new Error(`webhook tenants apply exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  const gw = await startGateway(stores);
  const probe = new IORedis(stores.redisUrl, { lazyConnect: true });
  await probe.connect();
  try {
    // Start-up work (index creation, the first discovery of streams) is not idle time.
    await new Promise((res) => setTimeout(res, 5000));
    const total = async () => Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))?.[1] ?? 0);
    const c0 = await total();
    const t0 = performance.now();
    await new Promise((res) => setTimeout(res, seconds * 1000));
    const c1 = await total();
    const elapsed = (performance.now() - t0) / 1000;
    // The measurer's own commands: the second INFO (the first was counted before c0 was read).
    return { perSecond: (c1 - c0 - 1) / elapsed, seconds: Math.round(elapsed) };
  } finally {
    probe.disconnect();
    await gw.stop();
  }
}
