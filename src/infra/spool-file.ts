import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export class SpoolFullError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the spool is full (${maxBytes} bytes)`);
    this.name = 'SpoolFullError';
  }
}

export class SpoolLockedError extends Error {
  constructor(
    readonly dir: string,
    holder: string,
  ) {
    super(`spool directory ${dir} is in use by another running instance (${holder}); give each instance its own SPOOL_DIR`);
    this.name = 'SpoolLockedError';
  }
}

/** Thrown by a drain's handler for a record that can never be handled: it is set aside, the drain goes on. */
export class SetAsideRecord extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SetAsideRecord';
  }
}

const ACTIVE = 'spool.jsonl';
const BAD = 'spool.bad.jsonl';
const LOCK = '.lock';
const DRAINING = /^spool-\d+-\d+\.draining$/;
/** The lock's owner touches it this often; a lock not touched for STALE_MS belongs to a dead instance. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 20_000;

/**
 * A local, append-only, size-capped file of JSON records that survives the process: each append is
 * written in full and fsync'd before it resolves, so a record acknowledged to a client is on disk
 * (a short or failed write is cut back off, never half-kept). Draining moves the active file aside
 * (appends go on in a new one), hands every record to the caller in order, reading line by line,
 * and deletes the file only once all were handled; a drain that stops half-way (or a crash) leaves
 * the file to be drained again, so the caller must tolerate seeing a record twice. Records that are
 * not what the caller expects are set aside in `spool.bad.jsonl` for an operator instead of
 * blocking the rest. The directory is locked to one running instance. Files are readable by the
 * gateway's user only: they hold decrypted messages.
 */
export class SpoolFile<T> {
  private handle?: FileHandle;
  private offset = 0;
  private bytes = 0;
  /** Appends and the switch to a new file take turns, so no write lands in a file being drained. */
  private chain: Promise<unknown> = Promise.resolve();
  private drainSeq = 0;
  private heartbeat?: NodeJS.Timeout;
  private readonly owner = `${hostname()}:${process.pid}:${Date.now()}`;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly isRecord: (v: unknown) => v is T,
  ) {}

  /** Bytes waiting in the spool (active file and files left to drain). */
  get size(): number {
    return this.bytes;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.lock();
    this.bytes = 0;
    for (const f of await readdir(this.dir)) {
      if (f === ACTIVE || DRAINING.test(f)) this.bytes += (await stat(path.join(this.dir, f))).size;
    }
    this.handle = await open(path.join(this.dir, ACTIVE), 'a', 0o600);
    this.offset = (await this.handle.stat()).size;
  }

  append(record: T): Promise<void> {
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    return this.turn(async () => {
      const h = this.handle;
      if (!h) throw new Error('spool is not open');
      if (this.bytes + line.length > this.maxBytes) throw new SpoolFullError(this.maxBytes);
      try {
        for (let done = 0; done < line.length;) {
          const { bytesWritten } = await h.write(line, done, line.length - done);
          if (bytesWritten <= 0) throw new Error('spool write made no progress');
          done += bytesWritten;
        }
        await h.datasync();
      } catch (err) {
        // Not acknowledged: take the partial line back off, so the next record starts clean.
        await h.truncate(this.offset).catch(() => undefined);
        throw err;
      }
      this.offset += line.length;
      this.bytes += line.length;
    });
  }

  /**
   * Whether anything is waiting to be drained. `bytes` counts the active file and every file set
   * aside for draining until it is deleted, so the idle check touches no disk.
   */
  pending(): boolean {
    return this.bytes > 0;
  }

  /**
   * Hands every spooled record to `handle`, oldest file first. Stops at the first record `handle`
   * throws on (the rest stay spooled); returns how many records were handled.
   */
  async drain(handle: (record: T) => Promise<void>): Promise<number> {
    await this.turn(async () => {
      if (!this.handle || this.offset === 0) return;
      await this.handle.close();
      await rename(path.join(this.dir, ACTIVE), path.join(this.dir, `spool-${Date.now()}-${this.drainSeq++}.draining`));
      this.handle = await open(path.join(this.dir, ACTIVE), 'a', 0o600);
      this.offset = 0;
    });
    const files = (await readdir(this.dir)).filter((f) => DRAINING.test(f)).sort(byAge);
    let handled = 0;
    for (const f of files) {
      const file = path.join(this.dir, f);
      const size = (await stat(file)).size;
      const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
      for await (const line of lines) {
        if (line === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          // A torn last line: written but never fsync'd, so never acknowledged.
          continue;
        }
        if (!this.isRecord(record)) {
          await appendFile(path.join(this.dir, BAD), line + '\n', { mode: 0o600 });
          continue;
        }
        try {
          await handle(record);
        } catch (err) {
          if (!(err instanceof SetAsideRecord)) throw err;
          await appendFile(path.join(this.dir, BAD), line + '\n', { mode: 0o600 });
          continue;
        }
        handled++;
      }
      await unlink(file);
      this.bytes = Math.max(0, this.bytes - size);
    }
    return handled;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.turn(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
    await unlink(path.join(this.dir, LOCK)).catch(() => undefined);
  }

  /** One running instance per directory: two would drain each other's files away mid-append. */
  private async lock(): Promise<void> {
    const file = path.join(this.dir, LOCK);
    try {
      const [held, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      if (held !== this.owner && holderIsAlive(held, st.mtimeMs)) throw new SpoolLockedError(this.dir, held);
    } catch (err) {
      if (err instanceof SpoolLockedError) throw err;
    }
    await writeFile(file, this.owner, { mode: 0o600 });
    this.heartbeat = setInterval(() => {
      const now = new Date();
      void utimes(file, now, now).catch(() => undefined);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private turn<R>(fn: () => Promise<R>): Promise<R> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/**
 * Whether the instance named in a lock may still be running. On this host the process table says so
 * (a restarted container often gets the same pid as the one that died: that one is us, so stale);
 * for another host sharing the volume, only a recent heartbeat does.
 */
function holderIsAlive(holder: string, touchedAtMs: number): boolean {
  const [host, pidText] = holder.split(':');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid) && pid > 0) {
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return Date.now() - touchedAtMs < STALE_MS;
}

/** Oldest first: the names carry the time they were set aside and a sequence number. */
function byAge(a: string, b: string): number {
  const n = (f: string) => f.split(/[-.]/).slice(1, 3).map(Number) as [number, number];
  const [ta, sa] = n(a);
  const [tb, sb] = n(b);
  return ta - tb || sa - sb;
}
