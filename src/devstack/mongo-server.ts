import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, rename, rm, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * Starts mongo-java-server (scripts/mongo/MongoLauncher.java) because no mongod
 * exists on our machines. The launcher reports wire version 9 so the mongodb
 * 7 driver accepts it, and enables the oplog.
 */

export interface TestMongo {
  readonly uri: string;
  readonly port: number;
  /** The JVM's pid, for outage tests that stop (SIGSTOP) and resume (SIGCONT) the server. */
  readonly pid: number;
  stop(): Promise<void>;
}

const DATABASE = 'wxgate_test';
const START_TIMEOUT_MS = Number(process.env.WXGATE_MONGO_START_TIMEOUT_MS ?? 60_000);
const MVN_TIMEOUT_MS = 170_000;
const STOP_GRACE_MS = 5_000;
const STDERR_KEEP = 8_192;

/**
 * Compiled code runs from dist/src/devstack, sources from src/devstack, and
 * ad-hoc builds from anywhere (e.g. --outDir /tmp/rig); so look for the
 * files we need rather than assume a fixed depth.
 */
export function repoRoot(): string {
  const override = process.env.WXGATE_ROOT;
  if (override) return resolve(override);
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'mongo', 'pom.xml'))) {
        return dir;
      }
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`cannot find the wxgate repo root from ${__dirname} or ${process.cwd()}; set WXGATE_ROOT`);
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { cwd, timeout: MVN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`.trim()));
      } else {
        resolvePromise();
      }
    });
  });
}

async function readClasspath(file: string): Promise<string | undefined> {
  const text = (await readFile(file, 'utf8')).trim();
  // A cleaned ~/.m2 leaves a classpath naming jars that are gone.
  if (text === '' || !text.split(':').every((jar) => existsSync(jar))) return undefined;
  return text;
}

async function resolveClasspath(root: string): Promise<string> {
  const pom = join(root, 'scripts', 'mongo', 'pom.xml');
  const target = join(root, 'scripts', 'mongo', 'target');
  const cached = join(target, 'classpath.txt');
  if (existsSync(cached) && statSync(cached).mtimeMs >= statSync(pom).mtimeMs) {
    const classpath = await readClasspath(cached);
    if (classpath !== undefined) return classpath;
  }

  await mkdir(target, { recursive: true });
  // mdep.outputFile is resolved against the pom's directory, not the cwd, so it
  // must be absolute. Writing to a fresh file then renaming keeps a concurrent
  // reader from seeing half a file, and avoids the plugin's "no changes, not
  // rewriting" shortcut that would leave the old, older-than-pom mtime.
  const temp = join(target, `classpath.${process.pid}.tmp`);
  const args = ['-q', '-B', '-f', pom, 'dependency:build-classpath', `-Dmdep.outputFile=${temp}`];
  try {
    try {
      await run('mvn', ['-o', ...args], root);
    } catch {
      await run('mvn', args, root);
    }
    await rename(temp, cached);
  } finally {
    await rm(temp, { force: true });
  }
  const classpath = await readClasspath(cached);
  if (classpath === undefined) throw new Error(`mvn wrote an unusable classpath to ${cached}`);
  return classpath;
}

let classpathOnce: Promise<string> | undefined;

function classpath(root: string): Promise<string> {
  classpathOnce ??= resolveClasspath(root).catch((err: unknown) => {
    // Let a later call retry (e.g. after the network comes back).
    classpathOnce = undefined;
    throw err;
  });
  return classpathOnce;
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function waitForExit(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => child.once('exit', () => resolvePromise()));
}

async function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = waitForExit(child);
  // EOF on stdin is the launcher's own stop signal; SIGTERM backs it up.
  child.stdin.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function waitForListening(child: ChildProcessWithoutNullStreams, stderrTail: () => string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (why: string): void => {
      cleanup();
      const stderr = stderrTail().trim();
      reject(new Error(`test MongoDB did not start: ${why}${stderr ? `\nlauncher stderr:\n${stderr}` : ' (launcher stderr empty)'}`));
    };
    const onLine = (line: string): void => {
      const match = /^LISTENING (\d+)$/.exec(line.trim());
      if (!match) return;
      cleanup();
      resolvePromise(Number(match[1]));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`launcher exited early (code ${String(code)}, signal ${String(signal)})`);
    const onError = (err: Error): void => fail(`cannot run ${javaBinary()}: ${err.message}`);
    const timer = setTimeout(() => fail(`no LISTENING line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function cleanup(): void {
      clearTimeout(timer);
      lines.off('line', onLine);
      child.off('exit', onExit);
      child.off('error', onError);
      lines.close();
    }
    lines.on('line', onLine);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Starts a fresh, empty in-memory MongoDB on a free port. Each call gets its own server. */
export async function startTestMongo(): Promise<TestMongo> {
  const root = repoRoot();
  const cp = await classpath(root);
  const launcher = join(root, 'scripts', 'mongo', 'MongoLauncher.java');
  // Port 0: the JVM binds and reports the port, so no other process can grab it in between.
  const child = spawn(javaBinary(), ['-cp', cp, launcher, '0'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });

  let port: number;
  try {
    port = await waitForListening(child, () => stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }

  // Nothing here should keep Node alive: if a caller forgets stop(), Node
  // exits, our end of the stdin pipe closes, and the launcher follows.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    // Child stdio pipes are net.Sockets at runtime, though typed as plain streams.
    if (stream instanceof Socket) stream.unref();
  }
  child.stdout.resume();

  let stopping: Promise<void> | undefined;
  return {
    uri: `mongodb://127.0.0.1:${port}/${DATABASE}`,
    port,
    pid: child.pid ?? 0,
    stop: () => (stopping ??= stopChild(child)),
  };
}
