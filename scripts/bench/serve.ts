import type { Server } from 'node:http';

/**
 * Runs a benchmarked server the way `startChild` expects: listen on a free loopback port, print
 * `LISTENING <port>`, and close cleanly on SIGTERM (so its CPU time is read after the last request).
 */
export function serveForBench(listen: (port: number, host: string, ready: () => void) => Server): void {
  const server = listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
