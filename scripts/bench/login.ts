import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { connectMongo } from '../../src/infra/mongo';
import { benchLogLevel, benchScript, startChild, startGatewayChild } from './child';
import { benchStores, seedTenant } from './stores';
import { formatTable, measure, type BenchOpts, type LoadRequest } from './load';

/** Distinct users per run: the first logins of a run insert, later ones update (loginCount, session key). */
const DISTINCT_USERS = 2000;

/**
 * `npm run bench -- login`: logins/s through the gateway (jscode2session in the sandbox + MongoDB
 * upsert + sealed session key + Redis session) with p50/p99, side by side with the sandbox's own
 * jscode2session rate called directly at the same concurrency. Sandbox and gateway each run in
 * their own process; the load generator runs here. Codes are the sandbox's reusable `test:<name>`.
 */
export async function benchLogin(opts: BenchOpts): Promise<string> {
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

    // Each round has its own name prefix, so every measured round starts with fresh users too.
    const code = (round: number | string, i: number) => `test:r${round}_${i % DISTINCT_USERS}`;
    const direct = (i: number, round: number | string): LoadRequest => ({
      method: 'GET',
      url: `${sandbox.url}/sns/jscode2session?${new URLSearchParams({ appid, secret, js_code: code(round, i), grant_type: 'authorization_code' })}`,
    });
    const viaGateway = (i: number, round: number | string): LoadRequest => ({
      method: 'POST',
      url: `${gateway.url}/${appid}/auth/login`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: code(round, i) }),
    });
    const [rDirect, rGateway] = await measure(
      [
        { label: 'sandbox jscode2session, direct', next: direct, pid: sandbox.proc.pid },
        { label: 'wxgate POST /auth/login', next: viaGateway, pid: gateway.proc.pid },
      ],
      opts,
    );

    const conn = await connectMongo(stores.mongoUri);
    stops.unshift(() => conn.close());
    const users = conn.collection('users');
    const [docs, logins] = await Promise.all([
      users.countDocuments({ appid }),
      users.aggregate<{ n: number }>([{ $match: { appid } }, { $group: { _id: null, n: { $sum: '$loginCount' } } }]).toArray(),
    ]);
    return [
      `login benchmark (autocannon, ${opts.connections} keep-alive connections, ${opts.seconds} s per run, ${opts.rounds} interleaved rounds: best req/s and lowest server CPU per request of each;`,
      `  ${DISTINCT_USERS} distinct users per run; gateway LOG_LEVEL=${logLevel}; the gateway's CPU per login excludes the sandbox's, MongoDB's and Redis's)`,
      formatTable([rDirect!, rGateway!], rDirect!),
      `  gateway logins/s / sandbox jscode2session/s: ${(rGateway!.rps / rDirect!.rps).toFixed(2)}x   gateway CPU per login: ${rGateway!.serverCpuUsPerReq?.toFixed(0) ?? 'n/a'} µs`,
      `  users collection for the bench tenant: ${docs} documents (inserts), ${logins[0]?.n ?? 0} logins recorded (inserts + updates)`,
    ].join('\n');
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}
