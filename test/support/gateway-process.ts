import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../src/devstack/mongo-server';

export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface GatewayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Environment a gateway process (or the CLI) needs to reach the test stores. */
export function gatewayEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    MONGODB_URI: process.env.MONGODB_URI,
    REDIS_URL: process.env.REDIS_URL,
    SECRETS_KEY: TEST_SECRETS_KEY,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    // The sandbox, webhook receivers and tenants of the tests all live on 127.0.0.1.
    ALLOW_PRIVATE_URLS: 'true',
    ...extra,
  };
}

/** Starts `node dist/src/main.js` on a free port and waits until it listens. */
export async function startGateway(extra: Record<string, string> = {}, timeoutMs = 15000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/src/main.js')], {
    // Each process gets a spool of its own (tests that restart a process pass the same SPOOL_DIR again).
    env: gatewayEnv({ PORT: '0', HOST: '127.0.0.1', WXGATE_ANNOUNCE_PORT: '1', SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), 'wxgate-spool-')), ...extra }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /WXGATE_LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the tenants CLI as an operator would. */
export function runTenantsCli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/scripts/tenants.js'), ...args], {
      env: gatewayEnv(extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: repoRoot(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
