import Koa from 'koa';
import wechat from 'co-wechat';
import { serveForBench } from './serve';

/** co-wechat, the Koa push middleware from npm, answering every push with REPLY as a text reply (empty: "success"). */
const app = new Koa();
const reply = process.env.REPLY ?? '';
app.use(wechat({ token: process.env.PUSH_TOKEN ?? '', appid: process.env.APPID ?? '', encodingAESKey: process.env.AES_KEY ?? '' }).middleware(async () => reply));
serveForBench((port, host, ready) => app.listen(port, host, ready));
