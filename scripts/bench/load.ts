import http from 'node:http';

export interface LoadResult {
  label: string;
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
      `  ${r.label.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   errors ${r.errors}   ratio vs ${baseline.label}: ${(r.rps / baseline.rps).toFixed(2)}x`,
  );
  return lines.join('\n');
}
