import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { systemClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis } from '../../src/infra/redis';
import { WeChatHttp } from '../../src/transport/wechat-http';
import { Cooldowns } from '../../src/transport/cooldowns';
import { appSecretSources } from '../../src/token/sources/app-secret-token';
import { TenantTokens } from '../../src/token/tenant-tokens';
import { TokenManager } from '../../src/token/token-manager';
import { SecretBox } from '../../src/tenancy/secret-box';
import { sleep } from '../../src/kernel/timers';
import type { Tenant } from '../../src/tenancy/tenant';
import { benchLogLevel, benchScript, startChild, startGatewayChild } from './child';
import { benchStores, seedTenant } from './stores';
import { cpuRatio, formatTable, measure, type BenchOpts } from './load';

/**
 * `npm run bench -- tokens`: the L1 token read, then the passthrough against a bare Koa + axios
 * proxy and against calling the sandbox directly, measured side by side in one run.
 */
export async function benchTokens(opts: BenchOpts): Promise<string> {
  const stores = await benchStores();
  const sandbox = await startChild(benchScript('sandbox-server'), {});
  const appid = 'wx' + randomBytes(8).toString('hex');
  const secret = randomBytes(16).toString('hex');
  await axios.post(`${sandbox.url}/__sandbox/apps`, { appid, secret });

  const { key } = await seedTenant(stores, { appid, secret, apiBase: sandbox.url }, true);

  // 1. L1 token read, in process.
  const log = createLogger('silent');
  const redis = createRedis(stores.redisUrl, log);
  await connectRedis(redis);
  const cooldowns = new Cooldowns(systemClock, undefined, 300, 60);
  const manager = new TokenManager({ redis, box: new SecretBox(stores.secretsKey), clock: systemClock, log, sleep });
  const tokens = new TenantTokens(manager, appSecretSources({ http: new WeChatHttp(5000, { allowPrivateAddresses: true }), cooldowns, defaultApiBase: sandbox.url, sleep }));
  const tenant = { appid, secret, tokenMode: 'stable', apiBase: sandbox.url } as Tenant;
  const token = (await tokens.get(tenant)).accessToken;
  const samples: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const t0 = process.hrtime.bigint();
    await tokens.get(tenant);
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  samples.sort((a, b) => a - b);
  manager.close();
  redis.disconnect();
  const l1 = `  L1 token read (200000 reads): p50 ${(samples[samples.length >> 1]! / 1000).toFixed(2)} µs, p99 ${(samples[Math.floor(samples.length * 0.99)]! / 1000).toFixed(2)} µs`;

  // 2. Passthrough side by side.
  const bare = await startChild(benchScript('bare-proxy'), { UPSTREAM: sandbox.url, ACCESS_TOKEN: token });
  const gateway = await startGatewayChild(stores);
  const body = JSON.stringify({ path: 'pages/index/index' });
  const headers = { 'content-type': 'application/json' };
  const direct = () => ({ method: 'POST', url: `${sandbox.url}/wxa/generatescheme?access_token=${token}`, headers, body });
  const viaBare = () => ({ method: 'POST', url: `${bare.url}/${appid}/wxapi/wxa/generatescheme`, headers, body });
  const viaGateway = () => ({ method: 'POST', url: `${gateway.url}/${appid}/wxapi/wxa/generatescheme`, headers: { ...headers, authorization: `Bearer ${key}` }, body });
  try {
    const [rDirect, rBare, rGateway] = await measure(
      [
        { label: 'sandbox called directly', next: direct, pid: sandbox.proc.pid },
        { label: 'bare Koa + axios proxy', next: viaBare, pid: bare.proc.pid },
        { label: 'wxgate passthrough', next: viaGateway, pid: gateway.proc.pid },
      ],
      opts,
    );
    return [
      `tokens benchmark (autocannon, ${opts.connections} keep-alive connections, ${opts.seconds} s per run, ${opts.rounds} interleaved rounds: best req/s and lowest server CPU per request of each;`,
      `  gateway LOG_LEVEL=${benchLogLevel()}; the server CPU of a proxy does not include the sandbox's)`,
      l1 + `   (target p99 < 50 µs)`,
      formatTable([rDirect!, rBare!, rGateway!], rBare!),
      `  passthrough / bare proxy: ${(rGateway!.rps / rBare!.rps).toFixed(2)}x req/s (target >= 0.9x), ${cpuRatio(rGateway!, rBare!)} CPU efficiency   passthrough / direct: ${(rGateway!.rps / rDirect!.rps).toFixed(2)}x req/s`,
    ].join('\n');
  } finally {
    await gateway.stop();
    await bare.stop();
    await sandbox.stop();
    await stores.stop();
  }
}
