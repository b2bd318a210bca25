import Koa from 'koa';

/** The floor: Koa reading the body and answering "success", nothing else. */
const app = new Koa();
app.use(async (ctx) => {
  for await (const _chunk of ctx.req) {
    // drain
  }
  ctx.type = 'text/plain';
  ctx.body = 'success';
});
const server = app.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
