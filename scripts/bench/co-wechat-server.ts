import Koa from 'koa';
import wechat from 'co-wechat';

/** co-wechat, the Koa push middleware from npm, answering every push with an empty reply. */
const app = new Koa();
app.use(wechat({ token: process.env.PUSH_TOKEN ?? '', appid: process.env.APPID ?? '', encodingAESKey: process.env.AES_KEY ?? '' }).middleware(async () => ''));
const server = app.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
