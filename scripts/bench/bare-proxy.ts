import http from 'node:http';
import Koa from 'koa';
import axios from 'axios';

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
  const server = app.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
void main();
