import http from 'node:http';
import { loadConfig, type Config } from './kernel/config';
import { ConfigError } from './kernel/errors';
import { createLogger } from './kernel/log';
import { createRuntime, shutdown } from './composition/runtime';

/** Process entry point: validate config, connect, listen, and shut down cleanly on signals. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`wxgate: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const runtime = await createRuntime(config, log);
  // Every route gets the same bounds on slow clients: headers within HTTP_HEADERS_TIMEOUT_MS, the
  // whole request within HTTP_REQUEST_TIMEOUT_MS; Node checks them every second rather than every 30.
  const server = http.createServer(
    { headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS, requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    runtime.app.callback(),
  );
  server.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  log.info({ port }, 'wxgate listening');
  // Tests and benchmarks read this line to learn the port when PORT=0 (stderr, so stdout can
  // carry nothing but JSON logs).
  if (process.env.WXGATE_ANNOUNCE_PORT === '1') process.stderr.write(`WXGATE_LISTENING ${port}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    shutdown(server, runtime, config.SHUTDOWN_GRACE_MS)
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`wxgate: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
