/**
 * Preloaded into a benchmarked gateway (`node --expose-gc --require gc-probe.js`) by the scale
 * bench: on SIGUSR2 it runs a full garbage collection and writes `process.memoryUsage()` to
 * gcProbeFile(pid). RSS read at an arbitrary moment counts garbage the collector has not come to
 * yet (V8 collects when it sees fit, not when a bound asks it); heapUsed after a forced collection
 * is what the process actually holds. Bench-only: the gateway itself never exposes gc.
 */
import { renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const gcProbeFile = (pid: number): string => path.join(os.tmpdir(), `wxgate-bench-mem-${pid}.json`);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    // A second pass collects what the first one's finalizers released.
    gc();
    // Written aside and renamed: the reader sees the whole file or none.
    const file = gcProbeFile(process.pid);
    writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
    renameSync(`${file}.tmp`, file);
  });
}
