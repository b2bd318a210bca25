import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GATEWAY_NODE_FLAGS } from '../../src/devstack/node-flags';

/** Runs a compiled bench server (dist/scripts/bench/<name>.js) in its own process. */
export interface Child {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `quietStdout`: the child's stdout goes to /dev/null, as logs would go to a collector in
 * production, so the benchmark process does not spend its CPU draining them.
 */
export function startChild(
  script: string,
  env: Record<string, string | undefined>,
  readyPattern = /LISTENING (\d+)/,
  quietStdout = false,
  nodeFlags: readonly string[] = [],
): Promise<Child> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every benchmarked server into <dir> on exit.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const argv = [process.execPath, ...nodeFlags, ...prof, script];
  const [cmd, ...args] = pins ? ['taskset', '-c', pins.servers, ...argv] : argv;
  const proc = spawn(cmd!, args, { env: { ...process.env, ...env }, stdio: ['ignore', quietStdout ? 'ignore' : 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} did not start:\n${out}`)), 20000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = readyPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stderr?.off('data', onData);
        proc.stdout?.resume();
        proc.stderr?.resume();
        resolve({
          url: `http://127.0.0.1:${m[1]}`,
          proc,
          stop: () =>
            new Promise((r) => {
              if (proc.exitCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill('SIGTERM');
              // A server that does not stop in time is not left behind.
              setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
            }),
        });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited with ${code}:\n${out}`));
    });
  });
}

/** Which CPUs the benchmarked servers get, and which the load generator and the stores get. */
interface Pins {
  servers: string;
  rest: string;
}

let pins: Pins | undefined;

/**
 * Gives the benchmarked servers a core of their own (CPU 0) and keeps this process (the load
 * generator), Redis and MongoDB on the others, where `taskset` exists and there are at least two
 * CPUs. Unpinned, the scheduler moves the server, autocannon and Redis across the cores round by
 * round, and a server's CPU per request moved by a fifth between identical runs; only one server is
 * under load at a time, so sharing CPU 0 costs none of them anything. BENCH_PIN=off leaves it all
 * to the scheduler. Call before starting the stores (they inherit this process' CPUs).
 */
export function pinCpus(): () => void {
  const n = os.cpus().length;
  if (process.env.BENCH_PIN === 'off' || n < 2) return () => undefined;
  const p = { servers: '0', rest: n === 2 ? '1' : `1-${n - 1}` };
  const r = spawnSync('taskset', ['-a', '-p', '-c', p.rest, String(process.pid)], { stdio: 'ignore' });
  if (r.status !== 0) return () => undefined;
  pins = p;
  return () => {
    pins = undefined;
    spawnSync('taskset', ['-a', '-p', '-c', `0-${n - 1}`, String(process.pid)], { stdio: 'ignore' });
  };
}

export const pinning = (): string => (pins ? `servers on CPU ${pins.servers}, load generator and stores on CPU ${pins.rest}` : 'not pinned');

export const benchScript = (name: string) => path.join(__dirname, `${name}.js`);
export const mainScript = () => path.join(__dirname, '../../src/main.js');

/**
 * The gateway as it runs in production (compiled, its own process, with `npm start`'s Node flags,
 * LOG_LEVEL=info unless BENCH_LOG_LEVEL says otherwise); its JSON logs go to /dev/null.
 */
export function startGatewayChild(stores: { mongoUri: string; redisUrl: string; secretsKey: string }, env: Record<string, string> = {}): Promise<Child> {
  return startChild(
    mainScript(),
    {
      PORT: '0',
      HOST: '127.0.0.1',
      WXGATE_ANNOUNCE_PORT: '1',
      MONGODB_URI: stores.mongoUri,
      REDIS_URL: stores.redisUrl,
      SECRETS_KEY: stores.secretsKey,
      ADMIN_TOKEN: randomBytes(18).toString('hex'),
      LOG_LEVEL: benchLogLevel(),
      SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'wxgate-bench-spool-')),
      // The sandbox the bench tenants call listens on 127.0.0.1.
      ALLOW_PRIVATE_URLS: 'true',
      // Benchmarks measure the gateway's own throughput, not the per-tenant rate limits.
      RATE_LIMIT_LOGIN: 'off',
      RATE_LIMIT_USERS: 'off',
      RATE_LIMIT_MINIAPP: 'off',
      RATE_LIMIT_PASSTHROUGH: 'off',
      ...env,
    },
    /WXGATE_LISTENING (\d+)/,
    true,
    GATEWAY_NODE_FLAGS,
  );
}

export const benchLogLevel = (): string => process.env.BENCH_LOG_LEVEL ?? 'info';
