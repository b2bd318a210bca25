import http from 'node:http';
import { serveForBench } from './serve';

/**
 * A tenant backend that takes every webhook delivery (200) and counts them; `GET /count` answers
 * the count, so a benchmark can wait until the gateway has delivered what a run queued.
 * With SINK_HOLD=1 it never answers a delivery (it still counts them): a bench that measures the
 * push intake keeps the gateway's deliveries off its CPU that way.
 */
const hold = process.env.SINK_HOLD === '1';
let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/count') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }));
      return;
    }
    received++;
    if (hold) return;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 60_000;
serveForBench((port, host, ready) => server.listen(port, host, ready));
