import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, Socket } from 'node:net';
import { freePort } from './ports';

/**
 * A throwaway redis-server we own (never the machine's Redis on 6379), which
 * can be stopped and started again on the same port to test outages.
 */

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_KEEP = 8_192;
const PING_INTERVAL_MS = 50;

/** Everything we spawned and have not yet seen exit, for the last-chance kill on process exit. */
export const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // mocha --exit calls process.exit(); 'exit' handlers may only do sync work, and kill() is sync.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * setpriv --pdeathsig makes the kernel kill redis-server if Node dies without
 * running any handler (SIGKILL, crash). It execs, so the pid stays redis's own.
 */
export function redisServerCommand(args: string[]): [string, string[]] {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  if (process.platform === 'linux' && existsSync('/usr/bin/setpriv')) {
    return ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args]];
  }
  return [bin, args];
}

/** One PING round trip on a fresh connection; resolves true only on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class TestRedis {
  private child: ChildProcess | undefined;
  private output = '';
  private assignedPort: number | undefined;

  /**
   * Leave port out to get a free one on first start(); it is then kept for restarts. With
   * `persistDir`, the server keeps an append-only file there, fsync'd on every write (as production
   * runs Redis), so a kill -9 loses nothing it acknowledged.
   */
  constructor(
    port?: number,
    private readonly persistDir?: string,
  ) {
    this.assignedPort = port;
  }

  get port(): number {
    if (this.assignedPort === undefined) throw new Error('TestRedis has no port before start()');
    return this.assignedPort;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The redis-server's pid while it runs (for benchmarks that read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts redis-server (again) on this instance's port and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.child) return;
    this.assignedPort ??= await freePort();
    const port = this.assignedPort;

    // If something already answers there, our server would fail to bind and we
    // would be testing someone else's Redis.
    if (await ping(port)) throw new Error(`port ${port} already has a Redis; refusing to share it`);

    const [bin, args] = redisServerCommand([
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...(this.persistDir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.persistDir] : ['--appendonly', 'no', '--dir', tmpdir()]),
    ]);
    this.output = '';
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    installExitHook();
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (spawnError) {
        this.child = undefined;
        live.delete(child);
        throw new Error(`cannot run ${bin}: ${spawnError.message}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`redis-server on port ${port} exited early (code ${String(child.exitCode)}):\n${this.output.trim()}`);
      }
      if (await ping(port)) {
        // Like the test Mongo: a forgotten stop() must not keep Node alive; the exit hook reaps it.
        child.unref();
        for (const stream of [child.stdout, child.stderr]) {
          if (stream instanceof Socket) stream.unref();
        }
        return;
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${this.output.trim()}`);
      }
      await sleep(PING_INTERVAL_MS);
    }
  }

  /** Stops the server (`SIGKILL`: as a crash would); the port is kept so start() brings it back at the same URL. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    live.delete(child);
  }
}

/** Starts a fresh Redis on port (or a free one). The result can be stopped and start()ed again. */
export async function startTestRedis(port?: number): Promise<TestRedis> {
  const redis = new TestRedis(port);
  await redis.start();
  return redis;
}
