import IORedis, { Cluster, type ClusterNode } from 'ioredis';
import type { Logger } from '../kernel/log';

/**
 * One Redis, or ioredis' Redis Cluster client: both speak the same commands, and every multi-key
 * command the gateway sends keeps its keys in one hash slot (see redis-keys.ts), so callers need not
 * know which one they hold.
 */
export type Redis = IORedis | Cluster;

/** Where Redis is: a URL (one server) or the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = string | { cluster: ClusterNode[] };

/** REDIS_CLUSTER_NODES (`host:port,host:port`), when set, replaces REDIS_URL. */
export function redisTargetOf(cfg: { REDIS_URL: string; REDIS_CLUSTER_NODES?: string | undefined }): RedisTarget {
  const nodes = parseClusterNodes(cfg.REDIS_CLUSTER_NODES ?? '');
  return nodes.length ? { cluster: nodes } : cfg.REDIS_URL;
}

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:7000`); undefined entries are skipped. */
export function parseClusterNodes(spec: string): Array<{ host: string; port: number }> {
  const out: Array<{ host: string; port: number }> = [];
  for (const part of spec.split(',')) {
    const s = part.trim();
    if (!s) continue;
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
    if (!m) throw new Error(`not a host:port: ${s}`);
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new Error(`port out of range: ${s}`);
    out.push({ host: (m[1] ?? m[2]) as string, port });
  }
  return out;
}

export function isCluster(client: Redis): client is Cluster {
  return client instanceof Cluster;
}

/**
 * Commands fail fast while Redis is unreachable (no offline queue, one retry) so that callers can
 * fall back to in-process state instead of hanging; the client keeps reconnecting in the background.
 * Connection state changes are logged once per change, not once per failed command.
 */
export function createRedis(target: RedisTarget, log: Logger, name = 'main', opts: { commandTimeoutMs?: number } = {}): Redis {
  const common = {
    // A Redis that hangs with the socket open must not hang requests: commands give up after this.
    // Blocking readers (XREADGROUP) pass a longer one.
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    connectionName: `wxgate-${name}`,
  };
  const client: Redis =
    typeof target === 'string'
      ? new IORedis(target, {
          ...common,
          lazyConnect: true,
          enableOfflineQueue: false,
          // Commands issued in the same tick share one write: under load this halves syscalls on both ends.
          enableAutoPipelining: true,
          retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
        })
      : new Cluster(target.cluster, {
          lazyConnect: true,
          // As for one server: fail fast while the cluster is unreachable (the push spool and the
          // in-process fallbacks take over). A failover does not make the client "not ready": the
          // MOVED / connection-lost retries below carry commands across it.
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          // Writes and reads go to masters: a replica may lag, and the token lock and dedup read
          // what they just wrote.
          scaleReads: 'master',
          clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
          // A failover answers MOVED / CLUSTERDOWN / TRYAGAIN for a moment: retry shortly, well
          // inside commandTimeout, rather than fail the request.
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          retryDelayOnTryAgain: 100,
          retryDelayOnMoved: 0,
          maxRedirections: 16,
          slotsRefreshTimeout: 2000,
          redisOptions: common,
        });
  let down = false;
  client.on('ready', () => {
    if (down) log.warn({ redis: name }, 'redis connection restored');
    down = false;
  });
  client.on('error', (err: Error) => {
    if (!down) log.error({ redis: name, err: err.message }, 'redis unavailable');
    down = true;
  });
  if (isCluster(client)) {
    // The cluster client reports a node it cannot reach as 'node error' (it moves on to others).
    client.on('node error', (err: Error, key: string) => log.warn({ redis: name, node: key, err: err.message }, 'redis cluster node error'));
  }
  return client;
}

/**
 * Readiness of Redis: one PING for a single server; for a cluster, the cluster state is `ok` and
 * every master the client knows answers (a slot whose master is down makes part of the keyspace
 * unusable, which is not ready).
 */
export async function pingRedis(client: Redis): Promise<void> {
  if (!isCluster(client)) {
    await client.ping();
    return;
  }
  const masters = client.nodes('master');
  if (masters.length === 0) throw new Error('redis cluster: no master known');
  const info = await client.cluster('INFO');
  if (!/cluster_state:ok/.test(String(info))) throw new Error('redis cluster state is not ok');
  await Promise.all(masters.map((m) => m.ping()));
}

/** Waits for the first connection, with a clear error if it never comes. */
export async function connectRedis(client: Redis, timeoutMs = 10000): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') void client.connect().catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
