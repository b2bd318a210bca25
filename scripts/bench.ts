import { benchTokens } from './bench/tokens';
import { benchPortal } from './bench/portal';
import { benchLogin } from './bench/login';
import { benchPay } from './bench/pay';
import { benchDelivery } from './bench/delivery';
import type { BenchOpts } from './bench/load';
import { benchScale } from './bench/scale';

const HELP = `Usage: npm run bench -- <tokens|portal|login|pay|all|delivery|scale> [--seconds N] [--connections N] [--rounds N] [--tenants N]

  tokens   L1 token read p50/p99; passthrough vs a bare Koa + axios proxy vs the sandbox directly
  portal   distinct encrypted XML pushes through the gateway (replay binding, dedup, queueing) vs co-wechat vs bare Koa
  login    logins (code2session + MongoDB upsert + Redis session) vs the sandbox's own code2session rate
  pay      WeChat Pay notifications (RSA verify + AES-GCM decrypt + order move + webhook event)
           vs a node:crypto-only verifier and bare Koa
  all      tokens, portal, login and pay, one after the other
  delivery webhook delivery with 10 000 webhook tenants: Redis commands/s of an idle gateway, and push-accepted
           to webhook-received latency p50/p99 at 500 pushes/s spread over the tenants (BENCH_DELIVERY_TENANTS, BENCH_DELIVERY_RATE)
  scale    100 000 tenants: time of \`tenants -- apply\` (the real CLI), gateway RSS after serving 10 000 vs
           100 000 distinct tenants (TENANT_CACHE_MAX bound), L1-hit resolution p99, idle Redis commands/s
           of one gateway with 10 000 webhook tenants (--tenants N for another count; not part of "all")

  --seconds N      length of one measured run (default 3)
  --connections N  keep-alive connections autocannon keeps busy (default 50; --concurrency is the same)
  --rounds N       interleaved rounds (default 7; A B C, then C B A, ...)

Every server runs in its own process; autocannon drives it at saturation. Rounds interleave the
targets (A B C, then C B A, ...); each keeps its best req/s and its lowest server CPU per request
(user + system time from /proc/<pid>/stat over the run, divided by the requests answered). Ratios
are against the comparison measured in the same run; the portal's headline CPU efficiency is the
median over the rounds of the ratio within each round. CPU per request is the figure to compare on
a loaded machine: it counts the server's own work, not the time it waited for a core. On Linux with
two or more CPUs (and taskset), the portal bench runs the servers on CPU 0 and autocannon, Redis
and MongoDB on the others (BENCH_PIN=off: no pinning), every server with the gateway's Node flags.

Uses MONGODB_URI / REDIS_URL when set, otherwise starts a local test MongoDB and redis-server.
Benchmarks are measurements, never part of npm test.`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const which = args[0];
  const num = (name: string, def: number) => {
    const i = args.indexOf(name);
    const v = i >= 0 ? Number(args[i + 1]) : def;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} takes a positive number`);
    return v;
  };
  const connections = args.includes('--connections') || !args.includes('--concurrency') ? num('--connections', 50) : num('--concurrency', 50);
  const opts: BenchOpts = { seconds: num('--seconds', 3), connections, concurrency: connections, rounds: Math.round(num('--rounds', 7)) };
  const benches: Record<string, (o: BenchOpts) => Promise<string>> = { tokens: benchTokens, portal: benchPortal, login: benchLogin, pay: benchPay, delivery: benchDelivery };
  if (!which || which === '--help' || !(which in benches || which === 'all' || which === 'scale')) {
    process.stdout.write(HELP + '\n');
    process.exitCode = which && which !== '--help' ? 2 : 0;
    return;
  }
  if (which === 'scale') {
    process.stdout.write((await benchScale({ tenants: num('--tenants', 100_000), idleSeconds: num('--seconds', 15) })) + '\n\n');
    return;
  }
  // `all` is the side-by-side comparisons; the fleet-scale measurements take minutes and run by name.
  for (const name of which === 'all' ? ['tokens', 'portal', 'login', 'pay'] : [which]) {
    process.stdout.write((await benches[name]!(opts)) + '\n\n');
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
