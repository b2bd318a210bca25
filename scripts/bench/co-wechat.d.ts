/** co-wechat ships no types; the benchmark uses only this much of it. */
declare module 'co-wechat' {
  import type { Middleware } from 'koa';
  interface Config {
    token: string;
    appid: string;
    encodingAESKey: string;
  }
  function wechat(config: Config): { middleware(handler: (message: Record<string, unknown>) => Promise<unknown>): Middleware };
  export = wechat;
}
