import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { GatewayContext, GatewayState } from '../../http/context';
import { CONSOLE_CSS, CONSOLE_HTML } from './console-page';

/**
 * The console's own Content-Security-Policy (the app's is `default-src 'none'`, which would stop
 * the page): script, style and fetch from the gateway itself only, no inline code, no framing, no
 * form posts anywhere (the sign-in form is handled by the script).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The compiled browser script (console-app.ts, built next to this file), without its source-map
 * comment. tsc emits it as a CommonJS module (it marks `exports`), so it is wrapped in a function
 * that gives it an `exports` object of its own.
 */
function consoleScript(): string {
  const compiled = readFileSync(path.join(__dirname, 'console-app.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  return `(function (exports) {\n${compiled}})({});\n`;
}

/**
 * `GET /admin/console`: the operator console, a static page and its script and style. They hold no
 * data and need no token (the browser cannot send one when it navigates); everything the page
 * shows comes from the admin API, which the script calls with the token the operator signs in with.
 */
export function consoleRoutes(): Router<GatewayState> {
  const script = consoleScript();
  const router = new Router<GatewayState>();
  const serve = (ctx: GatewayContext, type: string, body: string) => {
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    // Always the current build's page; nothing here is worth a stale copy.
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = type;
    ctx.body = body;
  };
  router.get('/admin/console', (ctx) => serve(ctx, 'text/html; charset=utf-8', CONSOLE_HTML));
  router.get('/admin/console/console.js', (ctx) => serve(ctx, 'text/javascript; charset=utf-8', script));
  router.get('/admin/console/console.css', (ctx) => serve(ctx, 'text/css; charset=utf-8', CONSOLE_CSS));
  return router;
}
