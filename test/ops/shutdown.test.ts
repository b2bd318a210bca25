import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { expect } from 'chai';
import Redis from 'ioredis';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { TestRedis } from '../../src/devstack/redis-server';
import { makeTenant } from '../support/tenant-fixtures';
import { applyTenants, cli, request, sleep, stopAll } from '../support/gateway-helpers';

/** Sends `signal` and resolves with the exit code and how long the exit took. */
async function signalAndWait(gw: GatewayProcess, signal: NodeJS.Signals, withinMs: number): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = Date.now();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (gw.child.exitCode !== null) resolve({ code: gw.child.exitCode, signal: null });
    gw.child.once('exit', (code, sig) => resolve({ code, signal: sig }));
  });
  gw.child.kill(signal);
  const timer = setTimeout(() => gw.child.kill('SIGKILL'), withinMs + 5000);
  const r = await exited;
  clearTimeout(timer);
  return { ...r, ms: Date.now() - started };
}

/** Resolves true when a fresh TCP connection to the port is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** A stand-in for WeChat's token API that answers only when told to. */
class SlowWeChat {
  readonly server = http.createServer((req, res) => {
    req.resume();
    this.pending.push(res);
    this.onRequest?.();
  });
  readonly pending: http.ServerResponse[] = [];
  private onRequest: (() => void) | undefined;

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once a request is being held. */
  waitForRequest(): Promise<void> {
    if (this.pending.length) return Promise.resolve();
    return new Promise((resolve) => (this.onRequest = resolve));
  }

  answerAll(): void {
    for (const res of this.pending.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'shutdown-test-token', expires_in: 7200 }));
    }
  }

  close(): Promise<void> {
    for (const res of this.pending.splice(0)) res.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('ops: graceful shutdown', function () {
  this.timeout(30_000);

  const started: GatewayProcess[] = [];
  const launch = async (extra: Record<string, string> = {}) => {
    const gw = await startGateway(extra);
    started.push(gw);
    return gw;
  };
  after(() => stopAll(started));

  describe('an idle gateway', () => {
    const redis = new TestRedis();
    before(() => redis.start());
    after(() => redis.stop());

    it('SIGTERM with an idle keep-alive connection open: exits 0 at once, closes the socket and quits Redis', async () => {
      const gw = await launch({ REDIS_URL: redis.url });

      // Learn which Redis connection is the gateway's main one, then watch what it sends.
      const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      // The delivery worker opens its per-shard readers after start-up; MONITOR begun while
      // connections are still being set up confuses ioredis' reply queue, so wait until they settle.
      let clients = '';
      for (let stable = 0, last = -1; stable < 3; await sleep(200)) {
        clients = (await admin.client('LIST')) as string;
        const n = clients.split('\n').length;
        stable = n === last ? stable + 1 : 0;
        last = n;
      }
      const mainAddr = /addr=(\S+) .*name=wxgate-main/.exec(clients)?.[1];
      expect(mainAddr, clients).to.be.a('string');
      const monitor = await admin.monitor();
      const seen: string[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === mainAddr) seen.push(String(args[0]).toLowerCase());
      });

      // An idle keep-alive connection must not hold the shutdown up for SHUTDOWN_GRACE_MS (10 s).
      const agent = new http.Agent({ keepAlive: true });
      let socket: Socket | undefined;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(`${gw.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('socket', (s) => (socket = s));
        req.on('error', reject);
      });
      expect(status).to.equal(200);
      const socketClosed = new Promise<void>((resolve) => socket!.once('close', () => resolve()));
      await sleep(50);
      expect(socket!.destroyed, 'the keep-alive socket should still be open').to.equal(false);

      const exit = await signalAndWait(gw, 'SIGTERM', 3000);
      expect(exit.code, gw.output().slice(-2000)).to.equal(0);
      expect(exit.signal).to.equal(null);
      expect(exit.ms).to.be.below(3000);
      await socketClosed;
      expect(gw.output()).to.match(/"signal":"SIGTERM".*"msg":"shutting down"|"msg":"shutting down".*"signal":"SIGTERM"/);
      expect(gw.output()).to.not.match(/shutdown failed/);

      await sleep(100);
      expect(seen, 'commands the gateway sent on its main Redis connection while shutting down').to.include('quit');
      monitor.disconnect();
      admin.disconnect();
      agent.destroy();
      expect(await refused(gw.port)).to.equal(true);
    });

    it('SIGINT exits 0 as well', async () => {
      const gw = await launch({ REDIS_URL: redis.url });
      expect((await request(`${gw.url}/healthz`)).status).to.equal(200);
      const exit = await signalAndWait(gw, 'SIGINT', 3000);
      expect(exit.code, gw.output().slice(-2000)).to.equal(0);
      expect(exit.ms).to.be.below(3000);
    });
  });

  describe('a gateway with a request in flight', () => {
    // The in-flight request is a token fetch that our stand-in for WeChat holds until told to answer.
    // Each test needs its own tenant: a token, once fetched, is served from Redis.
    const wechat = new SlowWeChat();
    const tenants = [makeTenant(), makeTenant(), makeTenant()];
    const keys: string[] = [];

    before(async () => {
      const base = await wechat.listen();
      await applyTenants(...tenants.map((t) => ({ ...t, apiBase: base })));
      for (const t of tenants) {
        const created = await cli(['keys', 'create', t.appid, '--name', 'shutdown-test']);
        keys.push(/key:\s+(wxk_\S+)/.exec(created.stdout)![1]!);
      }
    });
    after(() => wechat.close());

    const tokenUrl = (gw: GatewayProcess, i: number) => `${gw.url}/${tenants[i]!.appid}/access-token`;

    it('finishes the in-flight request, refuses new connections meanwhile, then exits 0', async () => {
      const gw = await launch({ SHUTDOWN_GRACE_MS: '8000', WECHAT_TIMEOUT_MS: '20000' });
      const inflight = request(tokenUrl(gw, 0), { headers: { authorization: `Bearer ${keys[0]}` }, signal: AbortSignal.timeout(15_000) });
      await wechat.waitForRequest();

      const started = Date.now();
      const exited = new Promise<number | null>((resolve) => gw.child.once('exit', (code) => resolve(code)));
      gw.child.kill('SIGTERM');
      await sleep(300);
      expect(gw.child.exitCode, 'exited before the in-flight request was answered').to.equal(null);
      expect(await refused(gw.port), 'a new connection during shutdown').to.equal(true);

      wechat.answerAll();
      const r = await inflight;
      expect(r.status, r.text).to.equal(200);
      expect((r.json as { access_token?: string }).access_token).to.equal('shutdown-test-token');
      expect(await exited).to.equal(0);
      expect(Date.now() - started, 'exit must not wait for the whole grace period').to.be.below(8000);
    });

    it('closes the connection of the in-flight request once answered, so the exit does not wait for a keep-alive client', async () => {
      const gw = await launch({ SHUTDOWN_GRACE_MS: '3000', WECHAT_TIMEOUT_MS: '20000' });
      // Like a load balancer: keeps connections open until the server closes them.
      const agent = new http.Agent({ keepAlive: true });
      const inflight = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const req = http.get(tokenUrl(gw, 1), { agent, headers: { authorization: `Bearer ${keys[1]}` } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        });
        req.on('error', reject);
      });
      await wechat.waitForRequest();
      const exited = new Promise<number | null>((resolve) => gw.child.once('exit', (code) => resolve(code)));
      gw.child.kill('SIGTERM');
      await sleep(200);
      wechat.answerAll();
      const r = await inflight;
      const answeredAt = Date.now();
      expect(r.status, r.body).to.equal(200);
      const code = await exited;
      const exitMs = Date.now() - answeredAt;
      agent.destroy();
      expect(code).to.equal(0);
      expect(
        exitMs,
        `exited ${exitMs} ms after answering (response had "Connection: ${r.connection}"); ` + 'the server kept the answered connection alive and waited for SHUTDOWN_GRACE_MS',
      ).to.be.below(1000);
    });

    it('cuts off a request still running after SHUTDOWN_GRACE_MS and still exits 0', async () => {
      const gw = await launch({ SHUTDOWN_GRACE_MS: '500', WECHAT_TIMEOUT_MS: '20000' });
      const inflight = request(tokenUrl(gw, 2), { headers: { authorization: `Bearer ${keys[2]}` }, signal: AbortSignal.timeout(15_000) }).then(
        (r) => `answered ${r.status}`,
        (err: Error) => `failed: ${err.message}`,
      );
      await wechat.waitForRequest();
      const exit = await signalAndWait(gw, 'SIGTERM', 3000);
      expect(exit.code, gw.output().slice(-2000)).to.equal(0);
      expect(exit.ms).to.be.within(400, 3000);
      expect(await inflight).to.match(/^failed/);
      wechat.answerAll();
    });
  });
});
