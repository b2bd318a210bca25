import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, secretKeys } from '../src/kernel/config';
import { createLogger } from '../src/kernel/log';
import { createRuntime, shutdown } from '../src/composition/runtime';
import { createSandbox } from '../src/sandbox';
import { parseTenantDefinition } from '../src/composition/features';
import { ServiceKeys } from '../src/auth/service-keys';
import { announceTenantChange } from '../src/tenancy/tenant-resolver';
import { publishInvalidation } from '../src/cache/invalidation-bus';
import { DEMO_APPID, demoTenant } from '../src/devstack/demo-tenant';
import { startTestMongo } from '../src/devstack/mongo-server';
import { startTestRedis } from '../src/devstack/redis-server';
import { runPushCommand, PUSH_HELP } from '../src/devstack/push-command';
import { runPayCommand, PAY_HELP } from '../src/devstack/pay-command';
import { DEMO_MCHID, demoMerchant } from '../src/devstack/demo-merchant';
import { parseMerchantDefinition } from '../src/merchants/merchant';
import { MerchantRepository } from '../src/merchants/merchant-repository';
import { SecretBox } from '../src/tenancy/secret-box';

const HELP = `Usage: npm run sandbox [-- <command>]

  (no command)                      start the WeChat sandbox, the gateway and a demo tenant
  push <appid> <kind> [options]     build a push like WeChat and post it to a gateway
  pay <appid> <outTradeNo> [options]  pay an order in the running sandbox (WeChat Pay notifies the gateway)
  --help                            this text

Environment for the default command:
  PORT (3000)          gateway port
  SANDBOX_PORT (3001)  WeChat sandbox port
  MONGODB_URI, REDIS_URL  used when set; otherwise an in-memory test MongoDB and a redis-server are started
  SECRETS_KEY          required when MONGODB_URI is set (data must stay readable); otherwise generated
  ALLOW_PRIVATE_URLS   true unless set: tenants may call the local sandbox
  PUBLIC_BASE_URL      http://127.0.0.1:$PORT unless set: where the sandbox's WeChat Pay sends notifications

${PUSH_HELP}

${PAY_HELP}`;

async function start(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  if (!process.env.MONGODB_URI) {
    const m = await startTestMongo();
    process.env.MONGODB_URI = m.uri;
    stops.push(() => m.stop());
  } else if (!process.env.SECRETS_KEY && !process.env.SECRETS_KEYS) {
    throw new Error('SECRETS_KEY (or SECRETS_KEYS) is required when MONGODB_URI is set, or the demo data would be sealed with a throw-away key');
  }
  if (!process.env.REDIS_URL) {
    const r = await startTestRedis();
    process.env.REDIS_URL = r.url;
    stops.push(() => r.stop());
  }
  if (!process.env.SECRETS_KEYS) process.env.SECRETS_KEY ||= randomBytes(32).toString('base64');
  process.env.SPOOL_DIR ||= mkdtempSync(path.join(os.tmpdir(), 'wxgate-sandbox-spool-'));
  process.env.ADMIN_TOKEN ||= randomBytes(18).toString('base64url');
  // The demo tenant calls the local sandbox over plain http on 127.0.0.1.
  process.env.ALLOW_PRIVATE_URLS ||= 'true';
  process.env.PUBLIC_BASE_URL ||= `http://127.0.0.1:${process.env.PORT ?? 3000}`;

  const sandbox = createSandbox();
  const sandboxServer = await sandbox.listen(Number(process.env.SANDBOX_PORT ?? 3001), '127.0.0.1');
  process.env.WECHAT_API_BASE = sandboxServer.url;

  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const runtime = await createRuntime(config, log);
  // The demo merchant first: the demo tenant takes payments through it.
  const merchant = parseMerchantDefinition(demoMerchant(sandbox, sandboxServer.url), 'demo merchant', { allowPrivateUrls: config.ALLOW_PRIVATE_URLS });
  await new MerchantRepository(runtime.mongo, new SecretBox(secretKeys(config))).upsert(merchant);
  await publishInvalidation(runtime.redis, { kind: 'merchant', appid: merchant.mchid });
  const demo = { ...demoTenant(sandboxServer.url), pay: { mchid: DEMO_MCHID } };
  sandbox.registerApp({ appid: demo.appid, secret: demo.secret });
  await runtime.tenants.upsert(parseTenantDefinition(demo, 'demo tenant', { allowPrivateUrls: config.ALLOW_PRIVATE_URLS }));
  await announceTenantChange(runtime.redis, (appid) => publishInvalidation(runtime.redis, { kind: 'tenant', appid }), demo.appid);
  const keys = new ServiceKeys(runtime.mongo);
  const { key } = await keys.create(demo.appid, 'sandbox demo');
  keys.close();

  const server = http.createServer({ headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS, requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS }, runtime.app.callback());
  server.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const gw = `http://localhost:${config.PORT}`;
  process.stdout.write(`
wxgate sandbox is running
  gateway        ${gw}
  WeChat sandbox ${sandboxServer.url}   (admin API under /__sandbox)
  MongoDB        ${config.MONGODB_URI}
  Redis          ${config.REDIS_URL}
  demo tenant    ${DEMO_APPID}   push token ${demo.token}, EncodingAESKey ${demo.aesKey}
  demo merchant  ${DEMO_MCHID}   (WeChat Pay, public-key mode; notifications to ${config.PUBLIC_BASE_URL ?? ''})
  service key    ${key}
  ADMIN_TOKEN    ${config.ADMIN_TOKEN}

Try:
  curl ${gw}/${DEMO_APPID}
  curl ${gw}/wx0000000000000000/x
  curl -H 'Authorization: Bearer ${key}' ${gw}/${DEMO_APPID}/access-token
  curl -X POST -H 'Content-Type: application/json' -d '{"code":"test:alice"}' ${gw}/${DEMO_APPID}/auth/login
  npm run sandbox -- push ${DEMO_APPID} text --gateway ${gw} --mode safe
  curl -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
       -d '{"outTradeNo":"DEMO0001","description":"Coffee","amount":{"total":1200},"payer":{"openid":"o-demo"}}' ${gw}/${DEMO_APPID}/pay/orders
  npm run sandbox -- pay ${DEMO_APPID} DEMO0001
  curl -H 'Authorization: Bearer ${key}' ${gw}/${DEMO_APPID}/pay/orders/DEMO0001
  curl ${gw}/readyz

Ctrl-C stops everything.
`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await shutdown(server, runtime, 2000);
      await sandboxServer.close();
      for (const s of stops) await s();
      process.exit(0);
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (command === 'push') {
    process.exitCode = await runPushCommand(
      rest,
      (l) => process.stdout.write(l + '\n'),
      (l) => process.stderr.write(l + '\n'),
    );
    return;
  }
  if (command === 'pay') {
    process.exitCode = await runPayCommand(
      rest,
      (l) => process.stdout.write(l + '\n'),
      (l) => process.stderr.write(l + '\n'),
    );
    return;
  }
  if (command !== undefined) {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${HELP}\n`);
    process.exitCode = 2;
    return;
  }
  await start();
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${(err as Error).message}\n`);
  process.exit(1);
});
