import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { connectMongo } from '../../src/infra/mongo';
import { benchLogLevel, benchScript, startChild, startGatewayChild } from './child';
import { benchStores, seedTenant } from './stores';
import { formatTable, runLoad, type LoadRequest, type LoadResult } from './load';

/** Distinct users per run: the first logins of a run insert, later ones update (loginCount, session key). */
const DISTINCT_USERS = 2000;

/**
 * `npm run bench -- login`: logins/s through the gateway (jscode2session in the sandbox + MongoDB
 * upsert + sealed session key + Redis session) with p50/p99, side by side with the sandbox's own
 * jscode2session rate called directly at the same concurrency. Sandbox and gateway each run in
 * their own process; the load generator runs here. Codes are the sandbox's reusable `test:<name>`.
 */
export async function benchLogin(opts: { seconds: number; concurrency: number }): Promise<string> {
  const stores = await benchStores();
  const appid = 'wx' + randomBytes(8).toString('hex');
  const secret = randomBytes(16).toString('hex');
  const logLevel = benchLogLevel();
  const stops: (() => Promise<void>)[] = [() => stores.stop()];
  try {
    const sandbox = await startChild(benchScript('sandbox-server'), {});
    stops.unshift(() => sandbox.stop());
    await axios.post(`${sandbox.url}/__sandbox/apps`, { appid, secret }, { proxy: false });

    await seedTenant(stores, { appid, secret, name: 'bench-login', apiBase: sandbox.url });
    const gateway = await startGatewayChild(stores);
    stops.unshift(() => gateway.stop());

    // Each phase has its own name prefix, so the measured gateway runs start with fresh users too.
    const names = (phase: string) => (i: number) => `test:${phase}_${i % DISTINCT_USERS}`;
    const direct = (phase: string) => {
      const name = names(phase);
      return (i: number): LoadRequest => ({
        method: 'GET',
        url: `${sandbox.url}/sns/jscode2session?${new URLSearchParams({ appid, secret, js_code: name(i), grant_type: 'authorization_code' })}`,
      });
    };
    const viaGateway = (phase: string) => {
      const name = names(phase);
      return (i: number): LoadRequest => ({
        method: 'POST',
        url: `${gateway.url}/${appid}/auth/login`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: name(i) }),
      });
    };
    // The sandbox answers errors with HTTP 200 too; count on the body only for the gateway (status).
    await runLoad('warm-up', direct('warm'), { seconds: 1, concurrency: opts.concurrency });
    await runLoad('warm-up', viaGateway('warm'), { seconds: 1, concurrency: opts.concurrency });

    const best = async (label: string, make: (phase: string) => (i: number) => LoadRequest): Promise<LoadResult> => {
      const a = await runLoad(label, make('a'), opts);
      const b = await runLoad(label, make('b'), opts);
      return a.rps >= b.rps ? a : b;
    };
    const rDirect = await best('sandbox jscode2session, direct', direct);
    const rGateway = await best('wxgate POST /auth/login', viaGateway);

    const conn = await connectMongo(stores.mongoUri);
    stops.unshift(() => conn.close());
    const users = conn.collection('users');
    const [docs, logins] = await Promise.all([
      users.countDocuments({ appid }),
      users.aggregate<{ n: number }>([{ $match: { appid } }, { $group: { _id: null, n: { $sum: '$loginCount' } } }]).toArray(),
    ]);
    return [
      `login benchmark (concurrency ${opts.concurrency}, ${opts.seconds} s per run, best of 2; ${DISTINCT_USERS} distinct users per run; gateway LOG_LEVEL=${logLevel})`,
      formatTable([rDirect, rGateway], rDirect),
      `  gateway logins/s / sandbox jscode2session/s: ${(rGateway.rps / rDirect.rps).toFixed(2)}x`,
      `  users collection for the bench tenant: ${docs} documents (inserts), ${logins[0]?.n ?? 0} logins recorded (inserts + updates)`,
    ].join('\n');
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

if (require.main === module) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
  benchLogin({ seconds, concurrency }).then(
    (report) => {
      process.stdout.write(report + '\n');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`bench login: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
