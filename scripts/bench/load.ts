import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/** The options every bench takes: `npm run bench -- <name> [--seconds N] [--connections N] [--rounds N]`. */
export interface BenchOpts {
  /** Length of one measured run. */
  seconds: number;
  /** Keep-alive connections the load generator keeps busy (closed loop: a new request as soon as one is answered). */
  connections: number;
  /** Same as `connections` (the option's former name). */
  concurrency: number;
  /** Interleaved rounds; each target's best figures over them are kept. */
  rounds: number;
}

export interface LoadResult {
  label: string;
  /** CPU time the server process spent per answered request (user + system), when its pid is known. */
  serverCpuUsPerReq?: number;
  /** The same, round by round (interleavedRuns), for ratios of runs made side by side. */
  cpuRounds?: number[];
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

/** Requests/s, latency, CPU per request and the two ratios against `baseline`, one line per target. */
export function formatTable(rows: LoadResult[], baseline: LoadResult): string {
  const lines = rows.map((r) => {
    const cpu = r.serverCpuUsPerReq !== undefined ? `   server CPU ${r.serverCpuUsPerReq.toFixed(0).padStart(4)} µs/req` : '';
    const eff = r.serverCpuUsPerReq && baseline.serverCpuUsPerReq ? `   CPU efficiency vs ${baseline.label}: ${(baseline.serverCpuUsPerReq / r.serverCpuUsPerReq).toFixed(2)}x` : '';
    return (
      `  ${r.label.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   errors ${r.errors}` +
      cpu +
      `   req/s vs ${baseline.label}: ${(r.rps / baseline.rps).toFixed(2)}x` +
      eff
    );
  });
  return lines.join('\n');
}

/** `a`'s CPU efficiency relative to `b` (b's CPU per request / a's), or 'n/a' off Linux. */
export function cpuRatio(a: LoadResult, b: LoadResult): string {
  return a.serverCpuUsPerReq && b.serverCpuUsPerReq ? `${(b.serverCpuUsPerReq / a.serverCpuUsPerReq).toFixed(2)}x` : 'n/a';
}

/**
 * `a`'s CPU efficiency relative to `b` from runs made side by side: b's CPU per request / a's in each
 * round, the median over the rounds and the range. On a shared (virtual) machine the speed of every
 * process drifts by a fifth or more from one minute to the next; the runs of one round are seconds
 * apart, so their ratio keeps what the drift does not touch. Undefined without per-round figures.
 */
export function pairedCpuRatio(a: LoadResult, b: LoadResult): { median: number; min: number; max: number; rounds: number } | undefined {
  const xs = a.cpuRounds ?? [];
  const ys = b.cpuRounds ?? [];
  const ratios = xs
    .slice(0, ys.length)
    .map((x, i) => ys[i]! / x)
    .sort((p, q) => p - q);
  if (!ratios.length) return undefined;
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return { median, min: ratios[0]!, max: ratios[ratios.length - 1]!, rounds: ratios.length };
}

/** A target of `interleavedRuns`: one measured run per round. */
export interface RunTarget<R extends LoadResult = LoadResult> {
  label: string;
  /** One measured run; the server's CPU is read just before and just after it. */
  run: (round: number) => Promise<R>;
  pid?: number | undefined;
}

/**
 * Rounds A B C, C B A, ...: on a shared machine the load drifts, and interleaving gives every target
 * the same odds. Each target keeps its best round by requests/s (latencies and counts are that
 * round's), and its lowest server CPU per request over all rounds (read from /proc just before and
 * after each run): CPU per request is what other processes on the machine disturb least, since it
 * counts the server's own CPU time, not the wall-clock time it waited for a core.
 * `beforeRound` runs before each round (e.g. to build fresh requests).
 */
export async function interleavedRuns<R extends LoadResult>(targets: RunTarget<R>[], opts: { rounds: number; beforeRound?: (round: number) => Promise<void> }): Promise<R[]> {
  const best = new Map<string, R>();
  const cpu = new Map<string, number>();
  const rounds = new Map<string, number[]>(targets.map((t) => [t.label, []]));
  for (let round = 0; round < opts.rounds; round++) {
    await opts.beforeRound?.(round);
    // A B C, then C B A: a machine that speeds up or slows down over a round favours no target.
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const cpu0 = t.pid ? processCpuUs(t.pid) : undefined;
      const r = await t.run(round);
      const cpu1 = t.pid ? processCpuUs(t.pid) : undefined;
      if (cpu0 !== undefined && cpu1 !== undefined && r.requests > 0) {
        const per = (cpu1 - cpu0) / r.requests;
        cpu.set(t.label, Math.min(per, cpu.get(t.label) ?? Infinity));
        rounds.get(t.label)!.push(per);
      }
      const prev = best.get(t.label);
      if (!prev || r.rps > prev.rps) best.set(t.label, r);
    }
  }
  return targets.map((t) => {
    const r = best.get(t.label)!;
    const c = cpu.get(t.label);
    if (c !== undefined) r.serverCpuUsPerReq = c;
    r.cpuRounds = rounds.get(t.label)!;
    return r;
  });
}

/** What `runAutocannon` adds to a LoadResult: the answers by status code, and how many requests were taken from `next`. */
export interface AutocannonResult extends LoadResult {
  statusCounts: Record<string, number>;
  /** Requests built (taken from `next`): the answered ones plus those in flight when the run ended. */
  built: number;
}

/**
 * One run of autocannon: `connections` keep-alive connections, each sending its next request as soon
 * as the previous one is answered, for `seconds`. `next(i)` gives the i-th request (method, path and
 * query of `url`, headers, body), so targets rotate through a pool of pre-built requests (autocannon
 * calls `setupRequest` for every request it sends). Non-2xx answers and connection errors count as
 * errors (unless `okStatus` says otherwise).
 */
export async function runAutocannon(
  label: string,
  next: (i: number) => LoadRequest,
  opts: { seconds: number; connections: number; okStatus?: (s: number) => boolean },
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
    connections: opts.connections,
    duration: opts.seconds,
    pipelining: 1,
    requests: [
      {
        setupRequest: (req) => {
          const r = take();
          const q = r.url.indexOf('/', r.url.indexOf('//') + 2);
          return { ...req, method: r.method as autocannon.Request['method'], path: q >= 0 ? r.url.slice(q) : '/', headers: { ...r.headers }, body: r.body ?? '' };
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

/** Warm-up and measured runs of several stateless targets, each with its own request stream, interleaved. */
export async function measure(
  targets: { label: string; next: (i: number, round: number) => LoadRequest; pid?: number | undefined; okStatus?: (s: number) => boolean }[],
  opts: BenchOpts,
): Promise<AutocannonResult[]> {
  // Warm-up: JIT, connection pools, caches.
  for (const t of targets)
    await runAutocannon('warm-up', (i) => t.next(i, -1), { seconds: Math.min(2, opts.seconds), connections: opts.connections, ...(t.okStatus ? { okStatus: t.okStatus } : {}) });
  return interleavedRuns<AutocannonResult>(
    targets.map((t) => ({
      label: t.label,
      pid: t.pid,
      run: (round: number) => runAutocannon(t.label, (i) => t.next(i, round), { seconds: opts.seconds, connections: opts.connections, ...(t.okStatus ? { okStatus: t.okStatus } : {}) }),
    })),
    { rounds: opts.rounds },
  );
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
