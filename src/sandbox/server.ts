/** Assembles the Koa application and runs it on a real HTTP server. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { adminRoutes } from './admin-routes';
import { errorHandler, readJsonBody, type SandboxCtxState } from './http';
import { loginRoutes } from './login-routes';
import { mediaRoutes } from './media';
import { messageRoutes } from './message-routes';
import { mpApiRoutes } from './mp-apis';
import { payRoutes } from './pay/pay-routes';
import { shippingRoutes } from './pay/shipping-routes';
import { componentLoginRoutes } from './platform/component-login';
import { platformRoutes } from './platform/platform-routes';
import { newRouter } from './router';
import type { SandboxState } from './state';
import { tokenRoutes } from './token-routes';
import type { Sandbox, SandboxServer } from './types';

export function buildApp(st: SandboxState, sb: Sandbox): Koa<SandboxCtxState> {
  const app = new Koa<SandboxCtxState>();
  app.silent = true;
  const wx = newRouter();
  tokenRoutes(wx, st);
  loginRoutes(wx, st);
  mpApiRoutes(wx, st);
  messageRoutes(wx, st);
  mediaRoutes(wx, st);
  payRoutes(wx, st);
  shippingRoutes(wx, st);
  platformRoutes(wx, st);
  componentLoginRoutes(wx, st);
  const admin = adminRoutes(
    sb,
    () => st.apps.list(),
    (appid) => st.apps.has(appid) || st.platform.authorizations.isAuthorizer(appid),
  );
  app.use(errorHandler());
  app.use(readJsonBody());
  app.use(admin.routes());
  app.use(admin.allowedMethods());
  app.use(wx.routes());
  app.use(wx.allowedMethods());
  return app;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function listen(handler: RequestListener, port = 0, host = '127.0.0.1'): Promise<SandboxServer> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${h}:${addr.port}`,
        port: addr.port,
        close: () =>
          new Promise<void>((res, rej) => {
            server.close((err) => (err ? rej(err) : res()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
