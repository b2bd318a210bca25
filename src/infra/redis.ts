import Redis from 'ioredis';
import type { Logger } from '../kernel/log';

export type { Redis };

/**
 * Commands fail fast while Redis is unreachable (no offline queue, one retry) so that callers can
 * fall back to in-process state instead of hanging; the client keeps reconnecting in the background.
 * Connection state changes are logged once per change, not once per failed command.
 */
export function createRedis(url: string, log: Logger, name = 'main', opts: { commandTimeoutMs?: number } = {}): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    // A Redis that hangs with the socket open must not hang requests: commands give up after this.
    // Blocking readers (XREADGROUP) pass a longer one.
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    enableOfflineQueue: false,
    // Commands issued in the same tick share one write: under load this halves syscalls on both ends.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    connectionName: `wxgate-${name}`,
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
  return client;
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
