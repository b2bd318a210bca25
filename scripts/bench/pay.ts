import { createHash, generateKeyPairSync, randomBytes, randomInt, randomUUID, type KeyObject } from 'node:crypto';
import os from 'node:os';
import axios from 'axios';
import { connectMongo } from '../../src/infra/mongo';
import { SecretBox } from '../../src/tenancy/secret-box';
import { MerchantRepository } from '../../src/merchants/merchant-repository';
import { parseMerchantDefinition } from '../../src/merchants/merchant';
import { OrderStore, type PayOrderDoc } from '../../src/pay/order-store';
import { AUTH_SCHEMA, encryptResource, signedHeaders } from '../../src/sandbox/pay/pay-crypto';
import { benchLogLevel, benchScript, startChild, startGatewayChild, type Child } from './child';
import { benchStores, seedTenant } from './stores';
import { formatTable, interleavedRuns, processCpuUs, runAutocannon, type AutocannonResult, type BenchOpts, type LoadRequest } from './load';

/** A pre-built, signed and encrypted TRANSACTION.SUCCESS notification for one stored order. */
interface Notification {
  headers: Record<string, string>;
  body: string;
}

/** WeChat Pay's (and the gateway's) limit on a notification's age; every round must be sent well within it. */
const FRESH_S = 300;
const TOTAL_FEN = 1200;

/** What a gateway round adds: what it cost MongoDB and Redis, and how long the webhook queue took to drain after it. */
interface GatewayRun extends AutocannonResult {
  mongoCpuUsPerReq?: number;
  redisCpuUsPerReq?: number;
  drainS: number;
  /** Measured notifications whose order had already been paid (the round ran past its pool of fresh orders). */
  repeats: number;
}

/**
 * `npm run bench -- pay`: WeChat Pay payment notifications (TRANSACTION.SUCCESS, signed by the
 * merchant's platform key in public-key mode, resource encrypted with its APIv3 key) through the
 * gateway's POST /:appid/pay/notify, beside a Koa server doing only the RSA verification and the
 * AES-GCM decryption (node:crypto, no stores) and a bare Koa server. autocannon drives each at
 * saturation over keep-alive connections; each server runs in its own process.
 *
 * Every notification the gateway gets refers to its own stored NOTPAY order, so each one is a first
 * delivery (verify, decrypt, read the order, move it to SUCCESS, queue the webhook event, mark it
 * forwarded). The pool is rebuilt before each round, with fresh timestamps and fresh orders.
 */
export async function benchPay(opts: BenchOpts): Promise<string> {
  const ROUNDS = opts.rounds;
  // A round (three runs, the gateway's webhook drain and slack) must end before its notifications go stale.
  if (3 * opts.seconds + 60 > FRESH_S) throw new Error(`pay: --seconds at most ${Math.floor((FRESH_S - 60) / 3)} (a round's notifications are verified within ${FRESH_S} s of signing)`);
  const stores = await benchStores();
  const stops: (() => Promise<void>)[] = [() => stores.stop()];
  const started: Child[] = [];
  const start = async (c: Promise<Child>) => {
    const child = await c;
    started.push(child);
    stops.unshift(() => child.stop());
    return child;
  };
  try {
    const appid = 'wx' + randomBytes(8).toString('hex');
    const mchid = String(1_900_000_000 + randomInt(99_999_999));
    const apiV3Key = randomBytes(16).toString('hex');
    // The platform key pair is the bench's own: it signs notifications as WeChat Pay would.
    const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKeyId = `PUB_KEY_ID_0114${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e9)).padStart(9, '0')}`;
    const merchantKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const platformPublicPem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();

    const sink = await start(startChild(benchScript('webhook-sink'), {}));
    const conn = await connectMongo(stores.mongoUri);
    stops.unshift(() => conn.close());
    const merchants = new MerchantRepository(conn, new SecretBox(stores.secretsKey));
    await merchants.ensureIndexes();
    await merchants.upsert(
      parseMerchantDefinition(
        { mchid, name: 'Bench merchant', serialNo: randomBytes(20).toString('hex').toUpperCase(), privateKey: merchantKey, apiV3Key, publicKeyId, publicKey: platformPublicPem },
        'bench merchant',
        { allowPrivateUrls: true },
      ),
    );
    await seedTenant(stores, { appid, name: 'bench-pay', pay: { mchid }, webhook: { url: `${sink.url}/hook`, secret: randomBytes(16).toString('hex') } });
    const store = new OrderStore(conn);
    await store.ensureIndexes();

    const logLevel = benchLogLevel();
    const gateway = await start(startGatewayChild(stores));
    const verifier = await start(startChild(benchScript('pay-verifier'), { PAY_PUBLIC_KEY: platformPublicPem, PAY_PUBLIC_KEY_ID: publicKeyId, PAY_API_V3_KEY: apiV3Key }));
    const bare = await start(startChild(benchScript('bare-koa'), {}));

    // Orders go straight into MongoDB (as if created through POST /pay/orders and prepaid), then each
    // gets its notification, signed now.
    let made = 0;
    const build = async (count: number): Promise<Notification[]> => {
      const docs: PayOrderDoc[] = [];
      for (let i = 0; i < count; i++) {
        const outTradeNo = `B${Date.now().toString(36)}${(made + i).toString(36).padStart(6, '0')}`;
        docs.push({
          appid,
          outTradeNo,
          mchid,
          description: 'Bench coffee',
          amount: { total: TOTAL_FEN, currency: 'CNY' },
          payerOpenid: 'o-bench-payer',
          contentHash: createHash('sha256').update(outTradeNo).digest('hex'),
          prepayId: `wx${randomBytes(14).toString('hex')}`,
          state: 'NOTPAY',
          forwarded: [],
        });
      }
      made += count;
      for (let i = 0; i < docs.length; i += 5000) await store.orders.insertMany(docs.slice(i, i + 5000), { ordered: false });
      const now = Math.floor(Date.now() / 1000);
      return docs.map((d) => notification(d, platform.privateKey, publicKeyId, apiV3Key, now));
    };

    // Webhook events queued so far (those of the stored orders and of the pools already deleted), and
    // delivered so far. A gateway run ends when all its events are delivered; then its CPU is read.
    let forwardedDeleted = 0;
    const queued = async () => forwardedDeleted + (await store.orders.countDocuments({ appid, forwarded: 'SUCCESS' }).exec());
    const delivered = async () => (await axios.get<{ received: number }>(`${sink.url}/count`, { proxy: false })).data.received;
    const drain = async (): Promise<number> => {
      const t0 = Date.now();
      let last = -1;
      for (;;) {
        const [q, d] = await Promise.all([queued(), delivered()]);
        if (d >= q && q === last) return (Date.now() - t0) / 1000;
        last = q;
        if (Date.now() - t0 > 60_000) throw new Error(`pay: the gateway delivered ${d} of ${q} webhook events within 60 s of the run`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    // Three request streams over the same pool: the gateway takes each notification once (a first
    // delivery) and counts the ones it has to take again; the two stateless servers cycle through it.
    let pool: Notification[] = [];
    let taken = 0;
    let repeats = 0;
    const toGateway = (): LoadRequest => {
      if (taken >= pool.length) repeats++;
      const n = pool[taken++ % pool.length]!;
      return { method: 'POST', url: `${gateway.url}/${appid}/pay/notify`, headers: n.headers, body: n.body };
    };
    const cycle =
      (base: string) =>
      (i: number): LoadRequest => {
        const n = pool[i % pool.length]!;
        return { method: 'POST', url: base, headers: n.headers, body: n.body };
      };
    // The previous pool's orders go first, so the collection holds one round's orders: every round
    // meets the same size. (The in-memory test MongoDB scans the whole collection for the conditional
    // state update, so its cost grows with the orders stored; a real MongoDB uses the index.)
    const poolSizes: number[] = [];
    const newPool = async (count: number) => {
      forwardedDeleted = await queued();
      await store.orders.deleteMany({ appid }).exec();
      poolSizes.push(count);
      pool = await build(count);
      taken = 0;
      repeats = 0;
    };

    const storePid = stores.pids;
    const gatewayRun = async (label: string, seconds: number): Promise<GatewayRun> => {
      const m0 = storePid.mongo ? processCpuUs(storePid.mongo) : undefined;
      const r0 = storePid.redis ? processCpuUs(storePid.redis) : undefined;
      const before = repeats;
      const r = await runAutocannon(label, toGateway, { seconds, connections: opts.connections });
      const drainS = await drain();
      const m1 = storePid.mongo ? processCpuUs(storePid.mongo) : undefined;
      const r1 = storePid.redis ? processCpuUs(storePid.redis) : undefined;
      const per = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / Math.max(1, r.requests) : undefined);
      const out: GatewayRun = { ...r, drainS, repeats: repeats - before };
      const mongo = per(m0, m1);
      const redis = per(r0, r1);
      if (mongo !== undefined) out.mongoCpuUsPerReq = mongo;
      if (redis !== undefined) out.redisCpuUsPerReq = redis;
      return out;
    };

    // Warm-up (JIT, connection pools, the merchant and tenant caches), twice for the gateway: the
    // second run's rate sizes the pools. Each round gets twice the orders the fastest rate seen so far
    // would pay in a run, so the gateway never runs out of fresh orders (it would then get repeats).
    await newPool(1000);
    await gatewayRun('warm-up', 2);
    await newPool(2000);
    const warm = await gatewayRun('warm-up', 2);
    if (warm.errors > 0) throw new Error(`pay: the gateway refused warm-up notifications: ${JSON.stringify(warm.statusCounts)}`);
    for (const base of [verifier.url, bare.url]) await runAutocannon('warm-up', cycle(`${base}/`), { seconds: 1, connections: opts.connections });
    let fastest = warm.rps;
    const poolSize = () => Math.min(100_000, Math.max(2000, Math.ceil(fastest * opts.seconds * 2)));

    const gatewayLabel = 'wxgate POST /pay/notify';
    const [rGateway, rVerifier, rBare] = await interleavedRuns<AutocannonResult>(
      [
        {
          label: gatewayLabel,
          pid: gateway.proc.pid,
          run: async () => {
            const r = await gatewayRun(gatewayLabel, opts.seconds);
            fastest = Math.max(fastest, r.rps);
            return r;
          },
        },
        { label: 'node:crypto verify + decrypt (Koa)', pid: verifier.proc.pid, run: () => runAutocannon('node:crypto verify + decrypt (Koa)', cycle(`${verifier.url}/`), opts) },
        { label: 'bare Koa replying "success"', pid: bare.proc.pid, run: () => runAutocannon('bare Koa replying "success"', cycle(`${bare.url}/`), opts) },
      ],
      { rounds: ROUNDS, beforeRound: () => newPool(poolSize()) },
    );
    const g = rGateway as GatewayRun;

    const [paidLastRound, eventsQueued] = await Promise.all([store.orders.countDocuments({ appid, state: 'SUCCESS' }).exec(), queued()]);
    const statuses = (r: AutocannonResult) =>
      Object.entries(r.statusCounts)
        .map(([code, n]) => `${code}: ${n}`)
        .join(', ');
    const us = (v?: number) => (v === undefined ? 'n/a' : `${v.toFixed(0)} µs`);
    const repeated = g.repeats > 0 ? `   WARNING: the best gateway round ran out of fresh orders; ${g.repeats} of its notifications were repeats` : '';
    const nonOk = [rGateway, rVerifier, rBare].filter((r) => r.errors > 0);
    return [
      `pay benchmark: WeChat Pay TRANSACTION.SUCCESS notifications (autocannon, ${opts.connections} keep-alive connections, ${opts.seconds} s per run, ${ROUNDS} interleaved rounds: best req/s and lowest server CPU per request of each;`,
      `  gateway LOG_LEVEL=${logLevel}; public-key mode merchant, RSA-2048; webhook to a local receiver process, each run's events delivered before its CPU is read;`,
      `  every gateway notification is a first delivery of its own NOTPAY order (${poolSizes.slice(2).join(' / ')} fresh orders, their notifications signed just before each round), the other two servers replay the same pool)`,
      formatTable([rGateway, rVerifier, rBare], rBare),
      `  gateway / node:crypto verifier: ${(rGateway.rps / rVerifier.rps).toFixed(2)}x   gateway / bare Koa: ${(rGateway.rps / rBare.rps).toFixed(2)}x   verifier / bare Koa: ${(rVerifier.rps / rBare.rps).toFixed(2)}x`,
      `  per gateway notification (best round): MongoDB CPU ${us(g.mongoCpuUsPerReq)}, Redis CPU ${us(g.redisCpuUsPerReq)}; webhook queue drained ${g.drainS.toFixed(1)} s after the run; ` +
        `first deliveries ${g.requests - g.repeats}, repeats ${g.repeats}${repeated}`,
      `  gateway answers (best round): ${statuses(rGateway)}${nonOk.length ? `   non-2xx or failed: ${nonOk.map((r) => `${r.label} ${r.errors} (${statuses(r)})`).join('; ')}` : ''}`,
      `  last round: ${paidLastRound} of ${pool.length} stored orders moved NOTPAY -> SUCCESS; whole run: ${eventsQueued} webhook events queued, ${await delivered()} delivered; ` +
        `${os.cpus().length} CPUs shared by the load generator, the servers, MongoDB and Redis`,
    ].join('\n');
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/** The notification WeChat Pay sends when the order is paid, signed at `nowS` by the platform key. */
function notification(o: PayOrderDoc, platformKey: KeyObject, serial: string, apiV3Key: string, nowS: number): Notification {
  const transaction = {
    appid: o.appid,
    mchid: o.mchid,
    out_trade_no: o.outTradeNo,
    transaction_id: `4200${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e9)).padStart(9, '0')}`,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    // WeChat Pay writes times in China Standard Time.
    success_time: new Date((nowS + 8 * 3600) * 1000).toISOString().replace(/\.\d+Z$/, '+08:00'),
    payer: { openid: o.payerOpenid },
    amount: { total: o.amount.total, payer_total: o.amount.total, currency: 'CNY', payer_currency: 'CNY' },
  };
  const body = JSON.stringify({
    id: randomUUID(),
    create_time: transaction.success_time,
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: { original_type: 'transaction', ...encryptResource(apiV3Key, JSON.stringify(transaction), 'transaction') },
  });
  return { body, headers: { 'content-type': 'application/json', ...signedHeaders(platformKey, serial, body, nowS), 'Wechatpay-Signature-Type': AUTH_SCHEMA } };
}
