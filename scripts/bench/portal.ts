import { randomBytes } from 'node:crypto';
import os from 'node:os';
import IORedis from 'ioredis';
import { buildPush, samplePush, type BuiltPush } from '../../src/sandbox/push-simulator';
import { benchLogLevel, benchScript, pinCpus, pinning, startChild, startGatewayChild } from './child';
import { benchStores, seedTenant } from './stores';
import { GATEWAY_NODE_FLAGS } from '../../src/devstack/node-flags';
import { cpuRatio, formatTable, interleavedRuns, pairedCpuRatio, processCpuUs, runAutocannon, type AutocannonResult, type BenchOpts, type LoadRequest, type LoadResult } from './load';

const REPLY = 'benchmark reply';

/** CPU ms per second each process spends over `seconds` without requests (n/a off Linux). */
async function idleCpu(pids: (number | undefined)[], seconds: number): Promise<string[]> {
  const before = pids.map((p) => (p ? processCpuUs(p) : undefined));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return pids.map((p, i) => {
    const a = before[i];
    const b = p ? processCpuUs(p) : undefined;
    return a === undefined || b === undefined ? 'n/a' : ((b - a) / 1000 / seconds).toFixed(1);
  });
}

/** CPU per request without the idle share (idle ms/s spread over the run's requests/s). */
const netUs = (r: LoadResult, idleMsPerS: string): number | undefined =>
  r.serverCpuUsPerReq === undefined || idleMsPerS === 'n/a' ? undefined : r.serverCpuUsPerReq - (Number(idleMsPerS) * 1000) / r.rps;
const net = (r: LoadResult, idle: string) => {
  const v = netUs(r, idle);
  return v === undefined ? 'n/a' : `${v.toFixed(0)} µs`;
};
const netRatio = (a: LoadResult, ia: string, b: LoadResult, ib: string) => {
  const x = netUs(a, ia);
  const y = netUs(b, ib);
  return x && y ? `${(y / x).toFixed(2)}x` : 'n/a';
};

/** The paired-rounds CPU efficiency of `a` against `b`, with how it was made. */
function pairedText(a: LoadResult, b: LoadResult): string {
  const p = pairedCpuRatio(a, b);
  if (!p) return 'n/a (no per-process CPU figures off Linux)';
  return `${p.median.toFixed(2)}x (median over ${p.rounds} rounds of ${b.label}'s CPU per push / the gateway's in the same round; range ${p.min.toFixed(2)}x-${p.max.toFixed(2)}x)`;
}

/** A gateway run adds how many pushes it queued on the webhook stream and how many it was sent twice. */
interface GatewayRun extends AutocannonResult {
  queued?: number;
  repeats?: number;
}

/**
 * `npm run bench -- portal`: distinct encrypted XML text pushes (safe mode) through the gateway,
 * through co-wechat (the Koa push middleware from npm) and to a bare Koa server answering "success",
 * each in its own process, driven by autocannon over keep-alive connections at saturation.
 *
 * Both co-wechat and the gateway answer each push with an encrypted text reply. The gateway does
 * what it does in production on the request's path: the signed query's replay binding, the dedup
 * claim and the durable queueing of the message on the tenant's webhook stream (one Redis script),
 * with the access log at LOG_LEVEL=info (to /dev/null). The webhook delivery itself is off the path
 * and measured by its own bench (`bench -- delivery`): the gateway runs as an ingress-only instance
 * (WEBHOOK_CONCURRENCY=0), so its CPU is what taking pushes costs, and every push it answered must
 * be on the delivery stream at the end of its round (printed; a shortfall would be a lost push).
 *
 * Every push the gateway gets in a round is new (its own MsgId, nonce and signature, built before the
 * round with a fresh timestamp), so neither the dedup nor the replay guard short-cuts.
 */
export async function benchPortal(opts: BenchOpts): Promise<string> {
  const unpin = pinCpus();
  const stores = await benchStores();
  const stops: (() => Promise<void>)[] = [() => stores.stop(), async () => unpin()];
  let stopReceiver = async () => undefined as void;
  try {
    // The tenant's webhook (never called here: nothing in this run delivers).
    const hold = await startChild(benchScript('webhook-sink'), { SINK_HOLD: '1' });
    stops.unshift(() => hold.stop());
    stopReceiver = () => hold.stop();
    const { tenant: t } = await seedTenant(stores, {
      appid: 'wx' + randomBytes(8).toString('hex'),
      token: 'benchpushtoken',
      msgFormat: 'xml',
      rules: [{ match: { msgType: 'text' }, reply: { type: 'text', content: REPLY } }],
      webhook: { url: `${hold.url}/hook`, secret: randomBytes(16).toString('hex') },
    });
    const gateway = await startGatewayChild(stores, { WEBHOOK_CONCURRENCY: '0' });
    stops.unshift(() => gateway.stop());
    // The comparisons run with the gateway's Node flags too: the ratio is the code's, not the flags'.
    const coWechat = await startChild(benchScript('co-wechat-server'), { PUSH_TOKEN: t.token, APPID: t.appid, AES_KEY: t.aesKey, REPLY }, undefined, false, GATEWAY_NODE_FLAGS);
    stops.unshift(() => coWechat.stop());
    const bare = await startChild(benchScript('bare-koa'), {}, undefined, false, GATEWAY_NODE_FLAGS);
    stops.unshift(() => bare.stop());
    const redis = new IORedis(stores.redisUrl, { lazyConnect: true });
    await redis.connect();
    stops.unshift(async () => void redis.disconnect());

    // A round's pushes, built before it (the load generator then only sends them). The gateway takes
    // each once; co-wechat and bare Koa, which remember nothing, cycle through the same pool.
    let pool: BuiltPush[] = [];
    let taken = 0;
    let repeats = 0;
    let pools = 0;
    const newPool = (count: number) => {
      const ts = Math.floor(Date.now() / 1000);
      // A nonce of its own for every push: 32-bit random ones under one timestamp collide about
      // once per 60 000 pushes, and the gateway rightly refuses the second as a replay (401).
      const round = ++pools;
      pool = Array.from({ length: count }, (_, i) =>
        buildPush(t, samplePush('text', { content: 'benchmark message', createTime: ts }), { format: 'xml', mode: 'safe', timestamp: ts, nonce: `${round}${String(i).padStart(6, '0')}` }),
      );
      taken = 0;
      repeats = 0;
    };
    const request = (base: string, p: BuiltPush): LoadRequest => ({
      method: 'POST',
      url: `${base}?${new URLSearchParams(p.query).toString()}`,
      headers: { 'content-type': 'text/xml' },
      body: p.body,
    });
    const gatewayBase = `${gateway.url}/${t.appid}/portal`;
    const toGateway = (): LoadRequest => {
      if (taken >= pool.length) repeats++;
      return request(gatewayBase, pool[taken++ % pool.length]!);
    };
    const cycle = (base: string) => (i: number) => request(base, pool[i % pool.length]!);
    const queued = async () => {
      // Every stream in Redis is a webhook delivery stream here, however the delivery shards them.
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'COUNT', 1000, 'TYPE', 'stream');
        cursor = next;
        for (const k of keys) n += await redis.xlen(k);
      } while (cursor !== '0');
      return n;
    };

    const c = { seconds: opts.seconds, connections: opts.connections };
    newPool(4000);
    const warm = await runAutocannon('warm-up', toGateway, { ...c, seconds: Math.min(2, opts.seconds) });
    if (warm.errors > 0) throw new Error(`portal: the gateway refused warm-up pushes: ${JSON.stringify(warm.statusCounts)}`);
    await runAutocannon('warm-up', cycle(`${coWechat.url}/`), { ...c, seconds: 1 });
    await runAutocannon('warm-up', cycle(`${bare.url}/`), { ...c, seconds: 1 });
    // What each server spends with no request at all (timers, the delivery worker's polling): on a
    // loaded machine the servers answer few requests per second, and this share of their CPU per
    // request grows as the rate falls, so it is printed beside the figures.
    const idle = await idleCpu([gateway.proc.pid, coWechat.proc.pid, bare.proc.pid], 5);
    let fastest = warm.rps;
    const gatewayLabel = 'wxgate portal';
    const [rGateway, rCo, rBare] = await interleavedRuns<GatewayRun>(
      [
        {
          label: gatewayLabel,
          pid: gateway.proc.pid,
          run: async () => {
            const q0 = await queued();
            const r = await runAutocannon(gatewayLabel, toGateway, c);
            fastest = Math.max(fastest, r.rps);
            return { ...r, queued: (await queued()) - q0, repeats };
          },
        },
        { label: 'co-wechat', pid: coWechat.proc.pid, run: () => runAutocannon('co-wechat', cycle(`${coWechat.url}/`), c) },
        { label: 'bare Koa replying "success"', pid: bare.proc.pid, run: () => runAutocannon('bare Koa replying "success"', cycle(`${bare.url}/`), c) },
      ],
      // Twice the pushes the fastest gateway run so far would take (and at least 10 000/s), so every gateway push is new.
      { rounds: opts.rounds, beforeRound: async () => newPool(Math.min(200_000, Math.max(4000, Math.ceil(Math.max(fastest, 10_000) * opts.seconds * 2)))) },
    );
    const nonOk = [rGateway!, rCo!, rBare!].filter((r) => r.errors > 0);
    return [
      `portal benchmark: distinct encrypted XML text pushes (safe mode) with an encrypted text reply (autocannon, ${opts.connections} keep-alive connections, ${opts.seconds} s per run,`,
      `  ${opts.rounds} interleaved rounds: best req/s and lowest server CPU per request of each; gateway LOG_LEVEL=${benchLogLevel()} (access log to /dev/null), replay binding + dedup + queueing`,
      `  on the webhook stream in one Redis script per push, an ingress-only instance (delivery is \`bench -- delivery\`);`,
      `  every server with the gateway's Node flags (${GATEWAY_NODE_FLAGS.join(' ')}); ${os.cpus().length} CPUs: ${pinning()})`,
      formatTable([rGateway!, rCo!, rBare!], rCo!),
      `  idle CPU (5 s without requests): gateway ${idle[0]} ms/s, co-wechat ${idle[1]} ms/s, bare Koa ${idle[2]} ms/s; ` +
        `without it, CPU per request: gateway ${net(rGateway!, idle[0])}, co-wechat ${net(rCo!, idle[1])}: ${netRatio(rGateway!, idle[0], rCo!, idle[1])} CPU efficiency`,
      `  gateway CPU efficiency / co-wechat: ${pairedText(rGateway!, rCo!)}; target >= 1.2x`,
      `  lowest CPU per push of each over the rounds: ${cpuRatio(rGateway!, rCo!)}   best req/s: ${(rGateway!.rps / rCo!.rps).toFixed(2)}x`,
      `  gateway CPU efficiency / bare Koa: ${cpuRatio(rGateway!, rBare!)}   gateway best round: ${rGateway!.queued ?? 0} pushes queued for the webhook of ${rGateway!.requests} answered` +
        `${(rGateway!.queued ?? 0) < rGateway!.requests - rGateway!.errors ? ' (MISSING: answered pushes not on the stream)' : ''}, ${rGateway!.repeats ?? 0} repeats` +
        (nonOk.length ? `   non-2xx or failed: ${nonOk.map((r) => `${r.label} ${r.errors} (${JSON.stringify(r.statusCounts)})`).join('; ')}` : ''),
    ].join('\n');
  } finally {
    // The receiver goes first: the delivery it holds would otherwise keep the gateway's shutdown waiting.
    await stopReceiver().catch(() => undefined);
    for (const stop of stops) await stop().catch(() => undefined);
  }
}
