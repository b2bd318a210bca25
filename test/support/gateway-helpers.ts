/** Helpers for tests against gateway processes: the tenants CLI, raw MongoDB, polling, logs. */
export { request, expectErrorBody, type HttpResult } from './http';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { runTenantsCli, type CliResult, type GatewayProcess } from './gateway-process';
import { writeTenantFiles, type TenantFixture } from './tenant-fixtures';
import { testMongoUri } from './root-hooks';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `probe` every `everyMs` until it returns true or `withinMs` passes; returns the elapsed time
 * of the first success, or throws describing the last value seen.
 */
export async function pollUntil(probe: () => Promise<boolean>, opts: { withinMs: number; everyMs?: number; what: string; last?: () => string }): Promise<number> {
  const started = Date.now();
  const every = opts.everyMs ?? 50;
  for (;;) {
    let ok = false;
    try {
      ok = await probe();
    } catch {
      ok = false;
    }
    const elapsed = Date.now() - started;
    if (ok) return elapsed;
    if (elapsed > opts.withinMs) {
      throw new Error(`${opts.what} did not happen within ${opts.withinMs} ms${opts.last ? `; last: ${opts.last()}` : ''}`);
    }
    await sleep(every);
  }
}

/** Applies tenants through the real CLI and fails the test if it does not succeed. */
export async function applyTenants(...tenants: TenantFixture[]): Promise<CliResult> {
  const files = writeTenantFiles(...tenants);
  const r = await runTenantsCli(['apply', ...files]);
  expect(r.code, `apply failed: ${r.stderr}${r.stdout}`).to.equal(0);
  return r;
}

/** Runs the CLI and fails unless it exits with `code`. */
export async function cli(args: string[], code = 0): Promise<CliResult> {
  const r = await runTenantsCli(args);
  expect(r.code, `tenants ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).to.equal(code);
  return r;
}

export type RawDoc = Record<string, unknown>;

/** A plain driver connection to the test MongoDB, independent of anything the app opened. */
export async function withRawMongo<T>(fn: (db: mongoose.mongo.Db) => Promise<T>): Promise<T> {
  const client = new mongoose.mongo.MongoClient(testMongoUri(), { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  try {
    return await fn(client.db());
  } finally {
    await client.close();
  }
}

export function rawTenants(filter: RawDoc = {}): Promise<RawDoc[]> {
  return withRawMongo((db) => db.collection('tenants').find(filter).toArray() as Promise<RawDoc[]>);
}

/** Every JSON line the process wrote (non-JSON lines, e.g. WXGATE_LISTENING, are skipped). */
export function logLines(gw: GatewayProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of gw.output().split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as Record<string, unknown>);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** The request log lines carrying `reqId` (waits a little: stdout reaches us asynchronously). */
export async function requestLogLines(gw: GatewayProcess, reqId: string, withinMs = 2000): Promise<Record<string, unknown>[]> {
  const find = () => logLines(gw).filter((l) => l.reqId === reqId && l.msg === 'request');
  await pollUntil(async () => find().length > 0, { withinMs, what: `request log line for ${reqId}`, last: () => gw.output().slice(-2000) }).catch(() => undefined);
  // Give a duplicate line, if any, the chance to arrive too.
  await sleep(50);
  return find();
}

/** Stops gateways that are still running; safe in after hooks. */
export async function stopAll(gws: (GatewayProcess | undefined)[]): Promise<void> {
  await Promise.all(
    gws.map(async (gw) => {
      if (!gw || gw.child.exitCode !== null || gw.child.signalCode !== null) return;
      const timer = setTimeout(() => gw.child.kill('SIGKILL'), 5000);
      await gw.stop('SIGTERM');
      clearTimeout(timer);
    }),
  );
}
