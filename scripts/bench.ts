import { benchTokens } from './bench/tokens';
import { benchPortal } from './bench/portal';
import { benchLogin } from './bench/login';
import { benchPay } from './bench/pay';
import { benchDelivery } from './bench/delivery';

const HELP = `Usage: npm run bench -- <tokens|portal|login|pay|delivery|all> [--seconds N] [--concurrency N]

  tokens   L1 token read p50/p99; passthrough req/s vs a bare Koa + axios proxy vs the sandbox directly
  portal   encrypted XML pushes/s through the gateway vs co-wechat vs bare Koa replying "success"
  login    logins/s (code2session + MongoDB upsert + Redis session) vs the sandbox's own code2session rate
  pay      WeChat Pay notifications verified/s (RSA verify + AES-GCM decrypt + order move + webhook event), with autocannon,
           vs a node:crypto-only verifier and bare Koa
  delivery webhook delivery with 10 000 webhook tenants: Redis commands/s of an idle gateway, and push-accepted
           to webhook-received latency p50/p99 at 500 pushes/s spread over the tenants (BENCH_DELIVERY_TENANTS, BENCH_DELIVERY_RATE)

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
  const opts = { seconds: num('--seconds', 5), concurrency: num('--concurrency', 32) };
  const benches: Record<string, (o: typeof opts) => Promise<string>> = { tokens: benchTokens, portal: benchPortal, login: benchLogin, pay: benchPay, delivery: benchDelivery };
  if (!which || which === '--help' || !(which in benches || which === 'all')) {
    process.stdout.write(HELP + '\n');
    process.exitCode = which && which !== '--help' ? 2 : 0;
    return;
  }
  for (const name of which === 'all' ? Object.keys(benches) : [which]) {
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
