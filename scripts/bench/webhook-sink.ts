import http from 'node:http';
import { serveForBench } from './serve';

/**
 * A tenant backend that takes every webhook delivery (200) and counts them; `GET /count` answers
 * the count, so a benchmark can wait until the gateway has delivered what a run queued.
 */
let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/count') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }));
      return;
    }
    received++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 60_000;
serveForBench((port, host, ready) => server.listen(port, host, ready));
