import Koa from 'koa';
import { serveForBench } from './serve';

/** The floor: Koa reading the body and answering "success", nothing else. */
const app = new Koa();
app.use(async (ctx) => {
  for await (const _chunk of ctx.req) {
    // drain
  }
  ctx.type = 'text/plain';
  ctx.body = 'success';
});
serveForBench((port, host, ready) => app.listen(port, host, ready));
