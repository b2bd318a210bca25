/**
 * `npm run faults`: fault drills against a real fleet on this machine (loopback only), outside
 * `npm test`. It starts its own Redis, MongoDB-wire server, WeChat sandbox, webhook receiver and
 * three gateway processes, drives mixed traffic (pushes with WeChat's retries, central token reads,
 * logins) through each fault, and prints one table:
 *
 *   Redis killed 30 s · Redis FLUSHALL · MongoDB killed 30 s · MongoDB hung (SIGSTOP) 30 s ·
 *   one gateway killed -9 under load
 *
 * Columns: requests sent, answered 5xx (other than 503 STORE_UNAVAILABLE), pushes accepted,
 * delivered, lost, delivered twice. Every run is bounded (about 6 minutes in all).
 */
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { createSandbox } from '../src/sandbox';
import { buildPush, samplePush, type BuiltPush } from '../src/sandbox/push-simulator';
import { startTestMongo, type TestMongo } from '../src/devstack/mongo-server';
import { TestRedis } from '../src/devstack/redis-server';
import { connectMongo } from '../src/infra/mongo';
import { connectRedis, createRedis } from '../src/infra/redis';
import { createLogger } from '../src/kernel/log';
import { SecretBox } from '../src/tenancy/secret-box';
import { TenantRepository } from '../src/tenancy/tenant-repository';
import { ServiceKeys } from '../src/auth/service-keys';
import { parseTenantDefinition, tenantSections } from '../src/composition/features';
import { startChild, mainScript, type Child } from './bench/child';
import { httpCall, type Answer } from './support/http-call';
import { GATEWAY_NODE_FLAGS } from '../src/devstack/node-flags';

const HELP = `Usage: npm run faults [-- --fault-seconds N] [-- --only <name>]

Runs fault drills against 3 local gateway processes (own Redis, MongoDB, sandbox, webhook) and
prints one table. Faults: redis-killed, redis-flushall, mongo-killed, mongo-hung, gateway-killed.
  --fault-seconds N   how long a fault lasts (default 30)
  --only NAME         run one drill`;

const SECRET = 'faults-webhook-secret-0123456789';
const TENANTS = 5;
const PUSH_RATE = 12;
const TOKEN_RATE = 12;
const LOGIN_RATE = 4;
const WARM_S = 5;
const SETTLE_S = 5;
const DELIVERY_WAIT_MS = 60_000;

interface Row {
  fault: string;
  sent: number;
  fivexx: number;
  accepted: number;
  delivered: number;
  lost: number;
  twice: number;
  notes: string[];
}

interface Fleet {
  redis: TestRedis;
  mongo: TestMongo;
  mongoPort: number;
  gateways: (Child | undefined)[];
  env: Record<string, string>;
  tenants: { appid: string; token: string; aesKey: string; key: string }[];
  snapshot: { tenants: Record<string, unknown>[]; keys: Record<string, unknown>[] };
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
          // not ours
        }
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hook`;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request with a deadline; never throws. */
const call = (url: string, init: RequestInit, timeoutMs = 5000): Promise<Answer> => httpCall(url, init, timeoutMs);

class Traffic {
  sent = 0;
  fivexx = 0;
  readonly codes = new Map<string, number>();
  readonly accepted = new Set<string>();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private seq = 0;

  constructor(private readonly fleet: Fleet) {}

  start(): void {
    this.loops.push(this.every(1000 / PUSH_RATE, () => this.push()));
    this.loops.push(this.every(1000 / TOKEN_RATE, () => this.token()));
    this.loops.push(this.every(1000 / LOGIN_RATE, () => this.login()));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private live(): Child[] {
    return this.fleet.gateways.filter((g): g is Child => g !== undefined && g.proc.exitCode === null && g.proc.signalCode === null);
  }

  private pick(): Child {
    const live = this.live();
    return live[this.seq++ % live.length]!;
  }

  private count(r: Awaited<ReturnType<typeof call>>): void {
    this.sent++;
    if ('error' in r) return;
    if (r.status >= 500 && !(r.status === 503 && r.code === 'STORE_UNAVAILABLE')) {
      this.fivexx++;
      const k = `${r.status} ${r.code ?? '-'}`;
      this.codes.set(k, (this.codes.get(k) ?? 0) + 1);
    }
  }

  private async every(ms: number, fn: () => Promise<void>): Promise<void> {
    const inflight = new Set<Promise<void>>();
    while (this.running) {
      const p = fn().finally(() => inflight.delete(p));
      inflight.add(p);
      await sleep(ms);
    }
    await Promise.all(inflight);
  }

  /** WeChat's behaviour: up to 4 deliveries, 5 s apart at most, to whichever instance the balancer picks. */
  private async push(): Promise<void> {
    const t = this.fleet.tenants[this.seq % this.fleet.tenants.length]!;
    const n = this.seq++;
    const fromUser = `o-fault-${n}`;
    const msgId = String(9_000_000_000 + n);
    const p: BuiltPush = buildPush(t, samplePush('text', { fromUser, content: `m${n}`, overrides: { MsgId: msgId } }), { format: 'xml', mode: 'safe' });
    const qs = new URLSearchParams(p.query).toString();
    for (let attempt = 0; attempt < 4; attempt++) {
      const gw = this.pick();
      const r = await call(`${gw.url}/${t.appid}/portal?${qs}`, { method: 'POST', body: p.body, headers: { 'content-type': p.contentType } });
      this.count(r);
      if (!('error' in r) && r.status === 200) {
        this.accepted.add(`${fromUser}/${msgId}`);
        return;
      }
      await sleep(1000);
    }
  }

  private async token(): Promise<void> {
    const t = this.fleet.tenants[this.seq % this.fleet.tenants.length]!;
    this.count(await call(`${this.pick().url}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${t.key}` } }));
  }

  private async login(): Promise<void> {
    const t = this.fleet.tenants[this.seq % this.fleet.tenants.length]!;
    const r = await call(`${this.pick().url}/${t.appid}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: `test:u${randomBytes(4).toString('hex')}` }),
    });
    this.count(r);
    if ('error' in r || r.status !== 200) return;
    const token = (JSON.parse(r.text) as { token: string }).token;
    this.count(await call(`${this.pick().url}/${t.appid}/users/me`, { headers: { authorization: `Bearer ${token}` } }));
  }
}

async function startGateway(fleet: Fleet, i: number): Promise<Child> {
  return startChild(mainScript(), { ...fleet.env, SPOOL_DIR: path.join(fleet.env.SPOOL_ROOT!, `gw${i}`) }, /WXGATE_LISTENING (\d+)/, true, GATEWAY_NODE_FLAGS);
}

/** Copies what MongoDB holds, so a restarted in-memory server can be given the same data back. */
async function snapshot(uri: string): Promise<Fleet['snapshot']> {
  const conn = await connectMongo(uri);
  try {
    const db = conn.db!;
    return {
      tenants: (await db.collection('tenants').find({}).toArray()) as Record<string, unknown>[],
      keys: (await db.collection('service_keys').find({}).toArray()) as Record<string, unknown>[],
    };
  } finally {
    await conn.close();
  }
}

async function restore(uri: string, snap: Fleet['snapshot']): Promise<void> {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const db = client.db();
    if (snap.tenants.length) await db.collection('tenants').insertMany(snap.tenants.map((d) => ({ ...d })));
    if (snap.keys.length) await db.collection('service_keys').insertMany(snap.keys.map((d) => ({ ...d })));
  } finally {
    await client.close();
  }
}

interface Drill {
  name: string;
  label(seconds: number): string;
  inject(fleet: Fleet, seconds: number, notes: string[]): Promise<void>;
}

const drills: Drill[] = [
  {
    name: 'redis-killed',
    label: (s) => `Redis killed ${s} s`,
    async inject(f, s) {
      await f.redis.stop('SIGKILL');
      await sleep(s * 1000);
      await f.redis.start();
    },
  },
  {
    name: 'redis-flushall',
    label: () => 'Redis FLUSHALL',
    async inject(f, s) {
      const c = createRedis(f.redis.url, createLogger('silent'), 'faults');
      await connectRedis(c);
      await c.flushall();
      c.disconnect();
      await sleep(s * 1000);
    },
  },
  {
    name: 'mongo-killed',
    label: (s) => `MongoDB killed ${s} s`,
    async inject(f, s, notes) {
      await f.mongo.stop();
      await sleep(s * 1000);
      f.mongo = await startTestMongo(f.mongoPort);
      // The in-memory server comes back empty; a real MongoDB would still hold this data.
      await restore(f.mongo.uri, f.snapshot);
      notes.push('MongoDB data restored from a snapshot after the restart (in-memory test server)');
    },
  },
  {
    name: 'mongo-hung',
    label: (s) => `MongoDB hung (SIGSTOP) ${s} s`,
    async inject(f, s) {
      process.kill(f.mongo.pid, 'SIGSTOP');
      try {
        await sleep(s * 1000);
      } finally {
        process.kill(f.mongo.pid, 'SIGCONT');
      }
    },
  },
  {
    name: 'gateway-killed',
    label: (s) => `one gateway killed -9 under load (restarted after ${s} s)`,
    async inject(f, s) {
      f.gateways[2]!.proc.kill('SIGKILL');
      await sleep(s * 1000);
      f.gateways[2] = await startGateway(f, 2);
    },
  },
];

async function runDrill(fleet: Fleet, receiver: Receiver, d: Drill, faultS: number): Promise<Row> {
  receiver.seen.clear();
  const notes: string[] = [];
  const traffic = new Traffic(fleet);
  traffic.start();
  await sleep(WARM_S * 1000);
  await d.inject(fleet, faultS, notes);
  await sleep(SETTLE_S * 1000);
  await traffic.stop();
  // Deliveries may still be on their way (spool drains, retries, reclaimed deliveries).
  const deadline = Date.now() + DELIVERY_WAIT_MS;
  while (Date.now() < deadline && [...traffic.accepted].some((k) => !receiver.seen.has(k))) await sleep(250);
  const delivered = [...traffic.accepted].filter((k) => receiver.seen.has(k)).length;
  if (traffic.codes.size) notes.push(`5xx: ${[...traffic.codes].map(([k, v]) => `${k} x${v}`).join(', ')}`);
  return {
    fault: d.label(faultS),
    sent: traffic.sent,
    fivexx: traffic.fivexx,
    accepted: traffic.accepted.size,
    delivered,
    lost: traffic.accepted.size - delivered,
    twice: [...receiver.seen.values()].filter((n) => n > 1).length,
    notes,
  };
}

function table(rows: Row[]): string {
  const head = ['fault', 'requests sent', '5xx (not STORE_UNAVAILABLE)', 'pushes accepted', 'delivered', 'lost', 'delivered twice'];
  const body = rows.map((r) => [r.fault, r.sent, r.fivexx, r.accepted, r.delivered, r.lost, r.twice].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ') + ' |';
  const out = [line(head), '|' + w.map((n, i) => (i === 0 ? ':' : '') + '-'.repeat(n + 1) + (i === 0 ? '' : ':')).join('|') + '|', ...body.map(line)];
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.fault}: ${n}`));
  return out.join('\n') + (notes.length ? '\n\n' + notes.join('\n') : '');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const fi = args.indexOf('--fault-seconds');
  const faultS = fi >= 0 ? Number(args[fi + 1]) : 30;
  const oi = args.indexOf('--only');
  const only = oi >= 0 ? args[oi + 1] : undefined;
  if (!Number.isFinite(faultS) || faultS <= 0 || faultS > 120) throw new Error('--fault-seconds takes 1 to 120');
  if (only && !drills.some((d) => d.name === only)) throw new Error(`unknown drill ${only}; see --help`);

  // Redis as production runs it (docker-compose: append-only file), so a kill loses nothing it acknowledged.
  const redis = new TestRedis(undefined, mkdtempSync(path.join(os.tmpdir(), 'wxgate-faults-redis-')));
  await redis.start();
  const mongo = await startTestMongo();
  const sandbox = createSandbox();
  const sbx = await sandbox.listen(0, '127.0.0.1');
  const receiver = new Receiver();
  await receiver.start();
  const secretsKey = randomBytes(32).toString('base64');
  const fleet: Fleet = {
    redis,
    mongo,
    mongoPort: mongo.port,
    gateways: [],
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      WXGATE_ANNOUNCE_PORT: '1',
      MONGODB_URI: mongo.uri,
      REDIS_URL: redis.url,
      SECRETS_KEY: secretsKey,
      ADMIN_TOKEN: randomBytes(18).toString('hex'),
      LOG_LEVEL: 'warn',
      ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '2000',
      WEBHOOK_MAX_ATTEMPTS: '100',
      SPOOL_ROOT: mkdtempSync(path.join(os.tmpdir(), 'wxgate-faults-')),
    },
    tenants: [],
    snapshot: { tenants: [], keys: [] },
  };
  try {
    const conn = await connectMongo(mongo.uri);
    const repo = new TenantRepository(conn, new SecretBox(secretsKey), tenantSections);
    await repo.ensureIndexes();
    const keys = new ServiceKeys(conn);
    await keys.ensureIndexes();
    for (let i = 0; i < TENANTS; i++) {
      const appid = 'wx' + randomBytes(8).toString('hex');
      const secret = randomBytes(16).toString('hex');
      const token = 'faults' + randomBytes(4).toString('hex');
      const aesKey = randomBytes(32).toString('base64').slice(0, 43);
      sandbox.registerApp({ appid, secret });
      await repo.upsert(
        parseTenantDefinition({ appid, name: `faults ${i}`, secret, token, aesKey, msgFormat: 'xml', apiBase: sbx.url, webhook: { url: receiver.url, secret: SECRET } }, 'faults', {
          // The sandbox and the webhook receiver listen on 127.0.0.1.
          allowPrivateUrls: true,
        }),
      );
      fleet.tenants.push({ appid, token, aesKey, key: (await keys.create(appid, 'faults')).key });
    }
    keys.close();
    await conn.close();
    fleet.snapshot = await snapshot(mongo.uri);
    for (let i = 0; i < 3; i++) fleet.gateways.push(await startGateway(fleet, i));

    const rows: Row[] = [];
    for (const d of drills.filter((x) => !only || x.name === only)) {
      process.stderr.write(`drill: ${d.label(faultS)} ...\n`);
      rows.push(await runDrill(fleet, receiver, d, faultS));
    }
    process.stdout.write(table(rows) + '\n');
    if (rows.some((r) => r.lost > 0)) process.exitCode = 1;
  } finally {
    await Promise.all(fleet.gateways.map((g) => g?.stop()));
    await receiver.stop();
    await sbx.close();
    await fleet.mongo.stop();
    await redis.stop();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`faults: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
