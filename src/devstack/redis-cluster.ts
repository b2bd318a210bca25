import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installExitHook, live, redisServerCommand as command } from './redis-server';

/**
 * A throwaway Redis Cluster we own: 3 masters and 3 replicas (by default), each a
 * `redis-server --cluster-enabled yes` on free loopback ports in a temp dir, joined by
 * `redis-cli --cluster create`. Used by `npm run test:cluster`; it can fail a master over to its
 * replica the way an operator would (`CLUSTER FAILOVER` on the replica).
 */

const START_TIMEOUT_MS = 60_000;
const POLL_MS = 200;
/** The cluster bus listens on port + 10000 (Redis' fixed offset), so both must be free. */
const BUS_OFFSET = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port below the ephemeral range whose bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || taken.has(port + BUS_OFFSET) || taken.has(port - BUS_OFFSET)) continue;
    if ((await canBind(port)) && (await canBind(port + BUS_OFFSET))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair (port, port + 10000) found for a cluster node');
}

/** Runs redis-cli and resolves with its stdout (rejects on a non-zero exit). */
export function redisCli(args: string[], timeoutMs = 30_000): Promise<string> {
  const bin = process.env.REDIS_CLI_BIN ?? 'redis-cli';
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One line of CLUSTER NODES, the fields we use. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'slave';
  /** For a replica, the id of its master. */
  masterId: string | undefined;
  failed: boolean;
  slots: string[];
}

export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const flags = (f[2] ?? '').split(',');
      const port = Number(/:(\d+)/.exec(f[1] ?? '')?.[1] ?? 0);
      return {
        id: f[0] ?? '',
        port,
        role: flags.includes('master') ? 'master' : 'slave',
        masterId: f[3] && f[3] !== '-' ? f[3] : undefined,
        failed: flags.some((x) => x === 'fail' || x === 'fail?'),
        slots: f.slice(8),
      };
    });
}

interface Node {
  port: number;
  child: ChildProcess;
  output: string;
}

export class TestRedisCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: Node[],
  ) {}

  /** Starts `masters` masters with `replicas` replicas each and waits until every node says the cluster is ok. */
  static async start(opts: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {}): Promise<TestRedisCluster> {
    const masters = opts.masters ?? 3;
    const replicas = opts.replicas ?? 1;
    const count = masters * (1 + replicas);
    const dir = mkdtempSync(path.join(tmpdir(), 'wxgate-redis-cluster-'));
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freeClusterPort(taken));
    installExitHook();
    const nodes = ports.map((port) => spawnNode(dir, port, opts.nodeTimeoutMs ?? 2000));
    const cluster = new TestRedisCluster(dir, nodes);
    try {
      await Promise.all(nodes.map((n) => cluster.waitFor(() => ping(n.port), `node ${n.port} to answer PING`)));
      await redisCli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], START_TIMEOUT_MS);
      await cluster.waitUntilOk();
      // A replica can be failed over to only once it has synced with its master.
      await cluster.waitFor(async () => (await Promise.all(cluster.ports.map((p) => replicaSynced(p)))).every(Boolean), 'replicas to sync');
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  /** The value for REDIS_CLUSTER_NODES. */
  get seeds(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** The cluster's view of its nodes, as one (live) node sees it. */
  async topology(): Promise<ClusterNodeInfo[]> {
    for (const p of this.ports) {
      try {
        return parseClusterNodes(await redisCli(['-p', String(p), 'cluster', 'nodes'], 5000));
      } catch {
        // that node is down: ask the next one
      }
    }
    throw new Error('no cluster node answers CLUSTER NODES');
  }

  /** Waits until every node reports cluster_state:ok, all 16384 slots served and the same view of who is master. */
  async waitUntilOk(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await this.waitFor(
      async () => {
        const views: string[] = [];
        for (const p of this.ports) {
          const info = await redisCli(['-p', String(p), 'cluster', 'info'], 5000);
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          const masters = parseClusterNodes(await redisCli(['-p', String(p), 'cluster', 'nodes'], 5000))
            .filter((n) => n.role === 'master' && n.slots.length > 0 && !n.failed)
            .map((n) => n.port)
            .sort();
          views.push(masters.join(','));
        }
        return new Set(views).size === 1;
      },
      'cluster_state:ok on every node',
      timeoutMs,
    );
  }

  /**
   * Fails a master over to its replica (`CLUSTER FAILOVER` on the replica: the master stops
   * accepting writes, the replica catches up, then takes over) and waits until every node agrees.
   * Returns the ports of the old master and the new one.
   */
  async failover(masterPort?: number): Promise<{ oldMaster: number; newMaster: number }> {
    const topo = await this.topology();
    const master = topo.find((n) => n.role === 'master' && n.slots.length > 0 && (masterPort === undefined || n.port === masterPort));
    if (!master) throw new Error(`no master${masterPort ? ` on port ${masterPort}` : ''} to fail over`);
    const replica = topo.find((n) => n.role === 'slave' && n.masterId === master.id && !n.failed);
    if (!replica) throw new Error(`master ${master.port} has no live replica`);
    await this.waitFor(() => replicaSynced(replica.port), `replica ${replica.port} to sync`);
    await redisCli(['-p', String(replica.port), 'cluster', 'failover']);
    await this.waitFor(async () => /role:master/.test(await redisCli(['-p', String(replica.port), 'info', 'replication'], 5000)), `replica ${replica.port} to become master`);
    await this.waitUntilOk();
    return { oldMaster: master.port, newMaster: replica.port };
  }

  /** Kills every node and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const child = n.child;
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGKILL');
          await exited;
        }
        live.delete(child);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitFor(check: () => Promise<boolean>, what: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      for (const n of this.nodes) {
        if (n.child.exitCode !== null || n.child.signalCode !== null) throw new Error(`redis cluster node ${n.port} exited:\n${n.output.trim()}`);
      }
      try {
        if (await check()) return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
      await sleep(POLL_MS);
    }
  }
}

function spawnNode(dir: string, port: number, nodeTimeoutMs: number): Node {
  const [bin, args] = command([
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `nodes-${port}.conf`,
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const node: Node = { port, child, output: '' };
  const keep = (chunk: Buffer): void => {
    node.output = (node.output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('error', (err) => keep(Buffer.from(`spawn error: ${err.message}`)));
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A forgotten stop() must not keep Node alive; the exit hook reaps the servers.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return node;
}

async function ping(port: number): Promise<boolean> {
  return (await redisCli(['-p', String(port), 'ping'], 5000)).trim() === 'PONG';
}

/** True for a master (nothing to sync), or a replica whose link to its master is up and synced. */
async function replicaSynced(port: number): Promise<boolean> {
  const info = await redisCli(['-p', String(port), 'info', 'replication'], 5000);
  if (/role:master/.test(info)) return true;
  return /master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info);
}
