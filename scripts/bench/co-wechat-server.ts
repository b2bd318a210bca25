import Koa from 'koa';
import wechat from 'co-wechat';
import { serveForBench } from './serve';

/** co-wechat, the Koa push middleware from npm, answering every push with an empty reply. */
const app = new Koa();
app.use(wechat({ token: process.env.PUSH_TOKEN ?? '', appid: process.env.APPID ?? '', encodingAESKey: process.env.AES_KEY ?? '' }).middleware(async () => ''));
serveForBench((port, host, ready) => app.listen(port, host, ready));
