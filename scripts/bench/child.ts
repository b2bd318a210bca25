import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

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
export function startChild(script: string, env: Record<string, string | undefined>, readyPattern = /LISTENING (\d+)/, quietStdout = false): Promise<Child> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every benchmarked server into <dir> on exit.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const proc = spawn(process.execPath, [...prof, script], { env: { ...process.env, ...env }, stdio: ['ignore', quietStdout ? 'ignore' : 'pipe', 'pipe'] });
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

export const benchScript = (name: string) => path.join(__dirname, `${name}.js`);
export const mainScript = () => path.join(__dirname, '../../src/main.js');

/**
 * The gateway as it runs in production (compiled, its own process, LOG_LEVEL=info unless
 * BENCH_LOG_LEVEL says otherwise); its JSON logs go to /dev/null.
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
  );
}

export const benchLogLevel = (): string => process.env.BENCH_LOG_LEVEL ?? 'info';
