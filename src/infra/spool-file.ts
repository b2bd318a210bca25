import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export class SpoolFullError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the spool is full (${maxBytes} bytes)`);
    this.name = 'SpoolFullError';
  }
}

const ACTIVE = 'spool.jsonl';
const DRAINING = /^spool-\d+-\d+\.draining$/;

/**
 * A local, append-only, size-capped file of JSON records that survives the process: each append is
 * written and fsync'd before it resolves, so a record acknowledged to a client is on disk. Draining
 * moves the active file aside (appends go on in a new one), hands every record to the caller in
 * order, and deletes the file only once all were handled; a drain that stops half-way (or a crash)
 * leaves the file to be drained again, so the caller must tolerate seeing a record twice.
 * A torn last line (a crash during a write, before its fsync) is skipped: it was never acknowledged.
 */
export class SpoolFile<T> {
  private handle?: FileHandle;
  private bytes = 0;
  /** Appends and the switch to a new file take turns, so no write lands in a file being drained. */
  private chain: Promise<unknown> = Promise.resolve();
  private drainSeq = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Bytes waiting in the spool (active file and files left to drain). */
  get size(): number {
    return this.bytes;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.bytes = 0;
    for (const f of await readdir(this.dir)) {
      if (f === ACTIVE || DRAINING.test(f)) this.bytes += (await stat(path.join(this.dir, f))).size;
    }
    this.handle = await open(path.join(this.dir, ACTIVE), 'a');
  }

  append(record: T): Promise<void> {
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    return this.turn(async () => {
      if (!this.handle) throw new Error('spool is not open');
      if (this.bytes + line.length > this.maxBytes) throw new SpoolFullError(this.maxBytes);
      await this.handle.write(line);
      await this.handle.datasync();
      this.bytes += line.length;
    });
  }

  /** Whether anything is waiting, on disk, to be drained. */
  async pending(): Promise<boolean> {
    if (this.bytes > 0) return true;
    return (await readdir(this.dir)).some((f) => DRAINING.test(f));
  }

  /**
   * Hands every spooled record to `handle`, oldest file first. Stops at the first record `handle`
   * throws on (the rest stay spooled); returns how many records were handled.
   */
  async drain(handle: (record: T) => Promise<void>): Promise<number> {
    await this.turn(async () => {
      if (!this.handle || (await this.handle.stat()).size === 0) return;
      await this.handle.close();
      await rename(path.join(this.dir, ACTIVE), path.join(this.dir, `spool-${Date.now()}-${this.drainSeq++}.draining`));
      this.handle = await open(path.join(this.dir, ACTIVE), 'a');
    });
    const files = (await readdir(this.dir)).filter((f) => DRAINING.test(f)).sort(byAge);
    let handled = 0;
    for (const f of files) {
      const file = path.join(this.dir, f);
      const raw = await readFile(file, 'utf8');
      for (const line of raw.split('\n')) {
        if (line === '') continue;
        let record: T;
        try {
          record = JSON.parse(line) as T;
        } catch {
          continue;
        }
        await handle(record);
        handled++;
      }
      await unlink(file);
      this.bytes = Math.max(0, this.bytes - Buffer.byteLength(raw, 'utf8'));
    }
    return handled;
  }

  async close(): Promise<void> {
    await this.turn(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
  }

  private turn<R>(fn: () => Promise<R>): Promise<R> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** Oldest first: the names carry the time they were set aside and a sequence number. */
function byAge(a: string, b: string): number {
  const n = (f: string) => f.split(/[-.]/).slice(1, 3).map(Number) as [number, number];
  const [ta, sa] = n(a);
  const [tb, sb] = n(b);
  return ta - tb || sa - sb;
}
