import http from 'node:http';
import Koa from 'koa';
import axios from 'axios';
import { serveForBench } from './serve';

/**
 * The baseline for the passthrough: a bare Koa + axios proxy that forwards to the upstream with a
 * fixed access token and no tenancy, auth, token management or logging.
 */
async function main(): Promise<void> {
  const upstream = process.env.UPSTREAM ?? '';
  const token = process.env.ACCESS_TOKEN ?? '';
  const client = axios.create({ baseURL: upstream, httpAgent: new http.Agent({ keepAlive: true, maxSockets: 512 }), responseType: 'arraybuffer', validateStatus: () => true, proxy: false });
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    const path = ctx.path.replace(/^\/[^/]+\/wxapi/, '');
    const res = await client.request({
      method: ctx.method,
      url: path,
      params: { ...ctx.query, access_token: token },
      data: Buffer.concat(chunks),
      headers: { 'content-type': ctx.get('content-type') || 'application/json' },
    });
    ctx.status = res.status;
    ctx.type = String(res.headers['content-type'] ?? 'application/json');
    ctx.body = Buffer.from(res.data as ArrayBuffer);
  });
  serveForBench((port, host, ready) => app.listen(port, host, ready));
}
void main();
