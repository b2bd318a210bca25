import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { buildPush, samplePush } from '../../src/sandbox/push-simulator';
import { connectMongo } from '../../src/infra/mongo';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TenantRepository } from '../../src/tenancy/tenant-repository';
import { parseTenantDefinition, tenantSections } from '../../src/composition/features';
import type { TenantFileContent } from '../../src/devstack/demo-tenant';
import { startGatewayChild } from './child';
import { benchStores } from './stores';

const TENANTS = Number(process.env.BENCH_DELIVERY_TENANTS ?? 10_000);
const IDLE_S = 10;
const RATE = Number(process.env.BENCH_DELIVERY_RATE ?? 500);
const LOAD_S = 20;
const WEBHOOK_SECRET = 'bench-delivery-webhook-secret';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function statsOf(info: string): { total: number; calls: Map<string, number> } {
  const total = Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1] as string, Number(m[2]));
  return { total, calls };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;

/**
 * Webhook delivery with many tenants: (a) Redis commands per second caused by one idle gateway with
 * TENANTS webhook tenants (INFO total_commands_processed over IDLE_S seconds, less the two INFO
 * calls that measure it; the gateway is the only other client of this Redis, so its other timers
 * count too), and (b) delivery latency, push accepted (200 received by the sender) to webhook
 * received, with RATE pushes per second spread over the tenants (each tenant one push, shuffled)
 * for LOAD_S seconds, sent at a steady rate. The gateway runs in its own process; the sender and
 * the webhook receiver share this one (one clock for both ends of the latency).
 */
export async function benchDelivery(): Promise<string> {
  const stores = await benchStores();
  const stops: (() => Promise<void>)[] = [() => stores.stop()];
  try {
    // The webhook receiver: every tenant's webhook points here.
    const received = new Map<string, number>();
    const sink = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { message?: { fromUser?: string } };
          const id = body.message?.fromUser;
          if (id && !received.has(id)) received.set(id, at);
        } catch {
          // Not a delivery: ignored.
        }
        res.writeHead(200).end('ok');
      });
    });
    sink.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    stops.unshift(() => new Promise((r) => sink.close(() => r())));
    const webhookUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/hook`;

    // Tenants, each with a webhook (seeded straight into MongoDB, many at a time).
    const seedStart = Date.now();
    const tenants: TenantFileContent[] = Array.from({ length: TENANTS }, () => ({
      appid: 'wx' + randomBytes(8).toString('hex'),
      name: 'bench',
      secret: randomBytes(16).toString('hex'),
      token: 'benchpushtoken',
      aesKey: randomBytes(32).toString('base64').slice(0, 43),
      msgFormat: 'json',
      tokenMode: 'stable',
      status: 'active',
      rules: [],
      webhook: { url: webhookUrl, secret: WEBHOOK_SECRET },
    }));
    const conn = await connectMongo(stores.mongoUri);
    try {
      const box = new SecretBox(stores.secretsKey);
      const repo = new TenantRepository(conn, box, tenantSections);
      await repo.ensureIndexes();
      // Sealed as the repository would, inserted in bulk (one by one takes minutes on a loaded machine).
      const model = (repo as unknown as { model: { insertMany(docs: unknown[]): Promise<unknown> } }).model;
      for (let i = 0; i < tenants.length; i += 1000)
        await model.insertMany(tenants.slice(i, i + 1000).map((t) => tenantSections.seal(box, parseTenantDefinition(t, 'bench tenant', { allowPrivateUrls: true }))));
    } finally {
      await conn.close();
    }
    const seedS = (Date.now() - seedStart) / 1000;

    const gw = await startGatewayChild(stores);
    stops.unshift(() => gw.stop());
    const redis = new Redis(stores.redisUrl, { maxRetriesPerRequest: 1 });
    stops.unshift(async () => redis.disconnect());

    // (a) Idle: past the start-up work, then IDLE_S seconds of nothing.
    await sleep(5000);
    const before = statsOf(await redis.info('all'));
    await sleep(IDLE_S * 1000);
    const after = statsOf(await redis.info('all'));
    const idleRate = (after.total - before.total - 1) / IDLE_S;
    const byCommand = [...after.calls]
      .map(([cmd, n]) => [cmd, (n - (before.calls.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0)) / IDLE_S] as const)
      .filter(([, r]) => r > 0)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([cmd, r]) => `${cmd} ${r.toFixed(1)}`)
      .join(', ');

    // (b) Load: RATE pushes per second, steady, each to another tenant.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
    const order = [...tenants].sort(() => Math.random() - 0.5);
    const total = Math.min(order.length * 10, RATE * LOAD_S);
    const accepted = new Map<string, number>();
    let failed = 0;
    const inflight = new Set<Promise<void>>();
    const send = (i: number) => {
      const t = order[i % order.length] as TenantFileContent;
      const id = `u${i}_${randomBytes(3).toString('hex')}`;
      const p = buildPush(t, samplePush('text', { fromUser: id, content: 'bench' }), { format: 'json', mode: 'plain' });
      const q = new URLSearchParams(p.query).toString();
      const done = new Promise<void>((resolve) => {
        const req = http.request(
          `${gw.url}/${t.appid}/portal?${q}`,
          { method: 'POST', agent, headers: { 'content-type': p.contentType, 'content-length': Buffer.byteLength(p.body) } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) accepted.set(id, Date.now());
              else failed++;
              resolve();
            });
          },
        );
        req.on('error', () => {
          failed++;
          resolve();
        });
        req.end(p.body);
      });
      inflight.add(done);
      void done.then(() => inflight.delete(done));
    };
    const loadStart = Date.now();
    const cpuBefore = cpuSeconds(gw.proc.pid);
    const TICK_MS = 10;
    let sent = 0;
    while (sent < total) {
      // Catch up to where a steady rate would be now (the timer is late under load).
      const due = Math.min(total, Math.floor(((Date.now() - loadStart) * RATE) / 1000) + 1);
      while (sent < due) send(sent++);
      await sleep(TICK_MS);
    }
    const sendS = (Date.now() - loadStart) / 1000;
    const gwCpuSendS = cpuSeconds(gw.proc.pid) - cpuBefore;
    await Promise.all([...inflight]);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && [...accepted.keys()].some((id) => !received.has(id))) await sleep(100);
    const wallS = (Date.now() - loadStart) / 1000;
    const gwCpuS = cpuSeconds(gw.proc.pid) - cpuBefore;
    agent.destroy();

    const latencies = [...accepted]
      .filter(([id]) => received.has(id))
      .map(([id, at]) => Math.max(0, (received.get(id) as number) - at))
      .sort((a, b) => a - b);
    const missing = accepted.size - latencies.length;
    const cpus = (await import('node:os')).loadavg()[0]?.toFixed(1);
    return [
      `delivery benchmark: ${TENANTS} webhook tenants (seeded in ${seedS.toFixed(0)} s), gateway in its own process, DELIVERY_SHARDS default; 1-min load average ${cpus}`,
      `  (a) idle gateway: ${idleRate.toFixed(1)} Redis commands/s over ${IDLE_S} s (target < 50); by command: ${byCommand}`,
      `  (b) ${sent} pushes at ${RATE}/s over ${sendS.toFixed(1)} s to ${Math.min(sent, TENANTS)} tenants: ${accepted.size} accepted, ${failed} refused/failed, ${latencies.length} delivered, ${missing} not delivered within 30 s`,
      `      accepted -> webhook received: p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms, max ${latencies.at(-1)} ms (target p99 < 1000 ms)`,
      `      gateway CPU: ${((100 * gwCpuSendS) / sendS).toFixed(0)} % of one core while sending; ${gwCpuS.toFixed(1)} s in all until the last delivery (${wallS.toFixed(1)} s), ${((1000 * gwCpuS) / Math.max(1, accepted.size)).toFixed(2)} ms per push accepted and delivered`,
    ].join('\n');
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}
