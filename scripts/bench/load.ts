import http from 'node:http';
import { readFileSync } from 'node:fs';

export interface LoadResult {
  label: string;
  /** CPU time the server process spent per request (user + system), when its pid is known. */
  serverCpuUsPerReq?: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * A closed-loop load generator: `concurrency` workers each send the next request as soon as the
 * previous one is answered, for `seconds`. Plain node:http with keep-alive, so the client itself
 * costs as little as possible and the same for every target.
 */
export async function runLoad(label: string, next: (i: number) => LoadRequest, opts: { seconds: number; concurrency: number; okStatus?: (s: number) => boolean }): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const ok = opts.okStatus ?? ((s: number) => s >= 200 && s < 300);
  const started = process.hrtime.bigint();
  const deadline = Date.now() + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (Date.now() < deadline) {
        const req = next(i++);
        const t0 = process.hrtime.bigint();
        const status = await send(agent, req).catch(() => 0);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (!ok(status)) errors++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { label, requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50Ms: q(0.5), p99Ms: q(0.99) };
}

function send(agent: http.Agent, r: LoadRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(r.url, { method: r.method, headers: r.headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

export function formatTable(rows: LoadResult[], baseline: LoadResult): string {
  const lines = rows.map(
    (r) =>
      `  ${r.label.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   errors ${r.errors}` +
      (r.serverCpuUsPerReq !== undefined ? `   server CPU ${r.serverCpuUsPerReq.toFixed(0).padStart(4)} µs/req` : '') +
      `   ratio vs ${baseline.label}: ${(r.rps / baseline.rps).toFixed(2)}x`,
  );
  return lines.join('\n');
}

/**
 * Measures several targets in interleaved rounds (A B C, A B C, ...) and keeps each one's best
 * round: on a shared machine the load drifts, and interleaving gives every target the same odds.
 */
export async function interleaved(
  /** `next` also gets the round number, for targets whose requests must differ per round. */
  targets: { label: string; next: (i: number, round: number) => LoadRequest; pid?: number }[],
  opts: { seconds: number; concurrency: number; rounds?: number },
): Promise<LoadResult[]> {
  const best = new Map<string, LoadResult>();
  for (let round = 0; round < (opts.rounds ?? 3); round++) {
    for (const t of targets) {
      const cpu0 = t.pid ? processCpuUs(t.pid) : undefined;
      const r = await runLoad(t.label, (i) => t.next(i, round), opts);
      if (t.pid && cpu0 !== undefined) {
        const cpu1 = processCpuUs(t.pid);
        if (cpu1 !== undefined) r.serverCpuUsPerReq = (cpu1 - cpu0) / Math.max(1, r.requests);
      }
      const prev = best.get(t.label);
      if (!prev || r.rps > prev.rps) best.set(t.label, r);
    }
  }
  return targets.map((t) => best.get(t.label)!);
}

/** user + system CPU of a process in µs, from /proc (Linux); undefined elsewhere. */
export function processCpuUs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / CLOCK_TICKS_PER_S : undefined;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;
