import http from 'node:http';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

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
  return interleavedRuns(
    targets.map((t) => ({ label: t.label, pid: t.pid, run: (round: number) => runLoad(t.label, (i) => t.next(i, round), opts) })),
    { rounds: opts.rounds ?? 3 },
  );
}

/** A target of `interleavedRuns`: one measured run per round, by any load generator. */
export interface RunTarget<R extends LoadResult = LoadResult> {
  label: string;
  /** One measured run; the server's CPU is read just before and just after it. */
  run: (round: number) => Promise<R>;
  pid?: number | undefined;
}

/**
 * `interleaved` for any load generator: rounds A B C, A B C, ..., each target's best round kept,
 * server CPU per request from /proc. `beforeRound` runs before each round (e.g. to build fresh requests).
 */
export async function interleavedRuns<R extends LoadResult>(targets: RunTarget<R>[], opts: { rounds: number; beforeRound?: (round: number) => Promise<void> }): Promise<R[]> {
  const best = new Map<string, R>();
  for (let round = 0; round < opts.rounds; round++) {
    await opts.beforeRound?.(round);
    for (const t of targets) {
      const cpu0 = t.pid ? processCpuUs(t.pid) : undefined;
      const r = await t.run(round);
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

/** What `runAutocannon` adds to a LoadResult: the answers by status code, and how many requests were taken from `next`. */
export interface AutocannonResult extends LoadResult {
  statusCounts: Record<string, number>;
  /** Requests built (taken from `next`): the answered ones plus those in flight when the run ended. */
  built: number;
}

/**
 * The same measurement as `runLoad` with autocannon as the load generator: `concurrency` keep-alive
 * connections, each sending its next request as soon as the previous one is answered, for
 * `seconds`. `next(i)` gives the i-th request (method, path and query of `url`, headers, body),
 * so targets rotate through a pool of pre-built requests. Non-2xx answers and connection errors
 * count as errors (unless `okStatus` says otherwise).
 */
export async function runAutocannon(
  label: string,
  next: (i: number) => LoadRequest,
  opts: { seconds: number; concurrency: number; okStatus?: (s: number) => boolean },
): Promise<AutocannonResult> {
  const first = next(0);
  const base = new URL(first.url);
  let i = 0;
  let pending: LoadRequest | undefined = first;
  const take = (): LoadRequest => {
    const r = pending ?? next(i);
    pending = undefined;
    i++;
    return r;
  };
  const ok = opts.okStatus ?? ((s: number) => s >= 200 && s < 300);
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url: base.origin,
    connections: opts.concurrency,
    duration: opts.seconds,
    pipelining: 1,
    requests: [
      {
        setupRequest: (req) => {
          const r = take();
          const u = new URL(r.url);
          return { ...req, method: r.method as autocannon.Request['method'], path: u.pathname + u.search, headers: { ...r.headers }, body: r.body ?? '' };
        },
      },
    ],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const statusCounts: Record<string, number> = {};
  let answered = 0;
  let bad = 0;
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) {
    const n = v?.count ?? 0;
    statusCounts[code] = n;
    answered += n;
    if (!ok(Number(code))) bad += n;
  }
  // autocannon's own duration excludes its set-up; the rate is over its measured window.
  const window = result.duration > 0 ? result.duration : seconds;
  return {
    label,
    requests: answered,
    errors: bad + result.errors,
    seconds: window,
    rps: answered / window,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statusCounts,
    built: i,
  };
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
