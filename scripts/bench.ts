import { benchTokens } from './bench/tokens';
import { benchPortal } from './bench/portal';
import { benchLogin } from './bench/login';
import { benchPay } from './bench/pay';
import { benchScale } from './bench/scale';

const HELP = `Usage: npm run bench -- <tokens|portal|login|pay|scale|all> [--seconds N] [--concurrency N] [--tenants N]

  tokens   L1 token read p50/p99; passthrough req/s vs a bare Koa + axios proxy vs the sandbox directly
  portal   encrypted XML pushes/s through the gateway vs co-wechat vs bare Koa replying "success"
  login    logins/s (code2session + MongoDB upsert + Redis session) vs the sandbox's own code2session rate
  pay      WeChat Pay notifications verified/s (RSA verify + AES-GCM decrypt + order move + webhook event), with autocannon,
           vs a node:crypto-only verifier and bare Koa
  scale    100 000 tenants: time of \`tenants -- apply\` (the real CLI), gateway RSS after serving 10 000 vs
           100 000 distinct tenants (TENANT_CACHE_MAX bound), L1-hit resolution p99, idle Redis commands/s
           of one gateway with 10 000 webhook tenants (--tenants N for another count; not part of "all")

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
  const benches: Record<string, (o: typeof opts) => Promise<string>> = { tokens: benchTokens, portal: benchPortal, login: benchLogin, pay: benchPay };
  if (!which || which === '--help' || !(which in benches || which === 'all' || which === 'scale')) {
    process.stdout.write(HELP + '\n');
    process.exitCode = which && which !== '--help' ? 2 : 0;
    return;
  }
  if (which === 'scale') {
    process.stdout.write((await benchScale({ tenants: num('--tenants', 100_000), idleSeconds: num('--seconds', 15) })) + '\n\n');
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
