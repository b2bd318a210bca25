import { randomBytes } from 'node:crypto';
import { buildPush, samplePush } from '../../src/sandbox/push-simulator';
import { benchLogLevel, benchScript, startChild, startGatewayChild } from './child';
import { benchStores, seedTenant } from './stores';
import { formatTable, interleaved, runLoad, type LoadRequest, type LoadResult } from './load';

/**
 * `npm run bench -- portal`: the same encrypted XML pushes (safe mode, each one new, so the gateway's
 * dedup never short-cuts) through the gateway, through co-wechat, and to a bare Koa server.
 */
export async function benchPortal(opts: { seconds: number; concurrency: number }): Promise<string> {
  const stores = await benchStores();
  const { tenant: t } = await seedTenant(stores, { appid: 'wx' + randomBytes(8).toString('hex'), token: 'benchpushtoken', msgFormat: 'xml' });
  const logLevel = benchLogLevel();
  const gateway = await startGatewayChild(stores);
  const coWechat = await startChild(benchScript('co-wechat-server'), { PUSH_TOKEN: t.token, APPID: t.appid, AES_KEY: t.aesKey });
  const bare = await startChild(benchScript('bare-koa'), {});
  // Pushes are built ahead of time so the load generator spends its time sending.
  const pool = Array.from({ length: 20_000 }, () => buildPush(t, samplePush('text', { content: 'benchmark message' }), { format: 'xml', mode: 'safe' }));
  let used = 0;
  const to = (base: string) => (): LoadRequest => {
    const p = pool[used++ % pool.length]!;
    const qs = new URLSearchParams(p.query).toString();
    return { method: 'POST', url: `${base}?${qs}`, headers: { 'content-type': 'text/xml' }, body: p.body };
  };
  try {
    for (const base of [`${gateway.url}/${t.appid}/portal`, `${coWechat.url}/`, `${bare.url}/`]) await runLoad('warm-up', to(base), { seconds: 1, concurrency: opts.concurrency });
    const [rGateway, rCo, rBare] = (await interleaved(
      [
        { label: 'wxgate portal', next: to(`${gateway.url}/${t.appid}/portal`), pid: gateway.proc.pid },
        { label: 'co-wechat', next: to(`${coWechat.url}/`), pid: coWechat.proc.pid },
        { label: 'bare Koa replying "success"', next: to(`${bare.url}/`), pid: bare.proc.pid },
      ],
      opts,
    )) as [LoadResult, LoadResult, LoadResult];
    return [
      `portal benchmark: encrypted XML pushes (concurrency ${opts.concurrency}, ${opts.seconds} s per run, best of 3 interleaved rounds; gateway LOG_LEVEL=${logLevel}, dedup in Redis, no webhook)`,
      formatTable([rGateway, rCo, rBare], rCo),
      `  gateway / co-wechat: ${(rGateway.rps / rCo.rps).toFixed(2)}x   gateway / bare Koa: ${(rGateway.rps / rBare.rps).toFixed(2)}x`,
    ].join('\n');
  } finally {
    await gateway.stop();
    await coWechat.stop();
    await bare.stop();
    await stores.stop();
  }
}
