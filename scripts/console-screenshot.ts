/**
 * `npm run -s console-screenshot`: starts the sandbox stack (`npm run sandbox`: WeChat sandbox,
 * gateway, demo tenant), gives a few tenants something to show (pushes accepted and refused, a
 * webhook that is down and one that is slow, a token WeChat refuses, rate-limit hits, a disabled
 * tenant), opens the operator console in headless Chromium and writes scripts/console-screenshot.png.
 * Everything runs on 127.0.0.1 and stops at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort } from '../src/devstack/ports';
import { repoRoot } from '../src/devstack/mongo-server';
import { DEMO_APPID, demoTenant, type TenantFileContent } from '../src/devstack/demo-tenant';
import { buildPush, deliverPush, samplePush } from '../src/sandbox/push-simulator';
import { launchBrowser } from '../test/support/browser';

const OUT = path.join(repoRoot(), 'scripts', 'console-screenshot.png');

function startSandbox(env: Record<string, string>): Promise<{ child: ChildProcess; serviceKey: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/scripts/sandbox.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox stack did not start in 120 s:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const key = /service key\s+(\S+)/.exec(out);
      if (out.includes('wxgate sandbox is running') && key && out.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolve({ child, serviceKey: key[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox stack exited with ${code}:\n${out}`));
    });
  });
}

/** A tenant's webhook endpoint: `down` answers 503, otherwise it answers after `delayMs`. */
async function receiver(opts: { down?: boolean; delayMs?: number }): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(opts.down ? 503 : 200).end(), opts.delayMs ?? 0));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function main(): Promise<void> {
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const adminToken = randomBytes(18).toString('base64url');
  const gw = `http://127.0.0.1:${port}`;
  const sbx = `http://127.0.0.1:${sandboxPort}`;
  const { child, serviceKey } = await startSandbox({
    PORT: String(port),
    SANDBOX_PORT: String(sandboxPort),
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'warn',
    // A failing webhook is dead-lettered within a second; a slow one holds its deliveries in flight.
    WEBHOOK_MAX_ATTEMPTS: '2',
    WEBHOOK_RETRY_BASE_MS: '200',
    WEBHOOK_RETRY_MAX_MS: '400',
    WEBHOOK_TIMEOUT_MS: '60000',
    WEBHOOK_TENANT_CONCURRENCY: '2',
  });
  const down = await receiver({ down: true });
  const slow = await receiver({ delayMs: 120_000 });
  try {
    const admin = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(`${gw}${p}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
      return (await r.json()) as Record<string, unknown>;
    };
    const tenant = (appid: string, name: string, extra: Partial<TenantFileContent> = {}): TenantFileContent => ({
      ...demoTenant(sbx),
      appid,
      name,
      secret: randomBytes(16).toString('hex'),
      token: 'tok' + randomBytes(6).toString('hex'),
      aesKey: randomBytes(32)
        .toString('base64')
        .replace(/[^A-Za-z0-9]/g, 'a')
        .slice(0, 43),
      ...extra,
    });
    const tea = tenant('wx1a2b3c4d5e6f7081', 'Tea house', { webhook: { url: down.url, secret: 'tea-webhook-secret-0123' }, limits: { login: '2/m' } });
    const noodles = tenant('wx2b3c4d5e6f708192', 'Noodle bar', { webhook: { url: slow.url, secret: 'noodle-webhook-secret-01' } });
    const books = tenant('wx3c4d5e6f708192a3', 'Bookshop (appsecret rotated)');
    const bakery = tenant('wx4d5e6f708192a3b4', 'Bakery', { status: 'disabled' });
    await admin('POST', '/admin/tenants', { tenants: [tea, noodles, books, bakery] });
    // WeChat (the sandbox) knows these mini programs; the bookshop's secret is not the one it knows.
    for (const t of [tea, noodles, books]) {
      const secret = t === books ? randomBytes(16).toString('hex') : t.secret;
      await fetch(`${sbx}/__sandbox/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appid: t.appid, secret }) });
    }

    const push = async (t: { appid: string; token: string; aesKey: string }, n: number, content: string) => {
      for (let i = 0; i < n; i++)
        await deliverPush(`${gw}/${t.appid}/portal`, buildPush(t, samplePush('text', { content: `${content} ${i}` }), { format: 'json', mode: 'safe' }), { retries: 0 });
    };
    const demo = demoTenant(sbx);
    await push(demo, 12, 'hello');
    await push({ ...demo, token: 'forged' }, 1, 'forged');
    await push(tea, 4, 'order');
    await push(noodles, 5, 'menu');
    await fetch(`${gw}/${DEMO_APPID}/access-token`, { headers: { authorization: `Bearer ${serviceKey}` } });
    for (const t of [tea, noodles, books]) {
      const { secret } = (await admin('POST', `/admin/tenants/${t.appid}/keys`, { name: 'backend' })) as { secret: string };
      await fetch(`${gw}/${t.appid}/access-token`, { headers: { authorization: `Bearer ${secret}` } });
    }
    for (let i = 0; i < 5; i++) {
      await fetch(`${gw}/${tea.appid}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: `test:guest${i}` }) });
    }
    // Activity reaches Redis within one flush (5 s); the slow webhook's deliveries age meanwhile.
    await new Promise((r) => setTimeout(r, 7000));

    const b = await launchBrowser({ viewport: { width: 1360, height: 520 } });
    try {
      await b.page.goto(`${gw}/admin/console`);
      await b.page.fill('#token', adminToken);
      await b.page.click('#sign-in-form button[type=submit]');
      await b.page.locator(`tr[data-appid="${bakery.appid}"]`).waitFor();
      await b.page.screenshot({ path: OUT, fullPage: true });
    } finally {
      await b.close();
    }
    process.stdout.write(`${OUT}\n`);
  } finally {
    down.close();
    slow.close();
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`console-screenshot: ${(err as Error).message}\n`);
  process.exit(1);
});
