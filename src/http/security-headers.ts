import type { ServerResponse } from 'node:http';
import helmet from 'koa-helmet';
import type { GatewayMiddleware } from './context';

/**
 * Security headers on every response (JSON, errors, the portal's text answers, the platform's two
 * small HTML pages), set before anything else runs so an error answer carries them too.
 *
 * Settings for an API whose only HTML is two pages without scripts, styles or images:
 * - CSP `default-src 'none'`: nothing may load, no framing, no forms, no <base>.
 * - Referrer-Policy `strict-origin-when-cross-origin` (not helmet's `no-referrer`): WeChat's
 *   authorization page (componentloginpage) checks that the Referer is the platform's
 *   "authorization initiation page" domain, so the link on /platform/:componentAppid/authorize must
 *   send the gateway's origin (and only its origin).
 * - Strict-Transport-Security for a year (browsers ignore it over plain http).
 */
export function securityHeaders(): GatewayMiddleware {
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
    },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  // Every header above is fixed (no nonces, nothing read from the request): helmet runs once, on a
  // recording response, and each request gets the recorded headers. Should helmet ever need more
  // than setHeader/removeHeader, recording fails and it runs on every request as before.
  let recorded: HeaderOps | null | undefined;
  let recording: Promise<HeaderOps | null> | undefined;
  const slow: GatewayMiddleware = async (ctx, next) => {
    if (recorded === undefined) recorded = await (recording ??= record(middleware));
    if (recorded === null) return middleware(ctx, next);
    return apply(recorded, ctx.res, next);
  };
  // Not an async function once recorded: it hands on next()'s promise instead of wrapping it in another.
  return (ctx, next) => (recorded ? apply(recorded, ctx.res, next) : slow(ctx, next));
}

function apply(ops: HeaderOps, res: ServerResponse, next: () => Promise<void>): Promise<void> {
  for (const name of ops.remove) res.removeHeader(name);
  for (const [name, value] of ops.set) res.setHeader(name, value);
  return next();
}

interface HeaderOps {
  set: [string, string | number | readonly string[]][];
  remove: string[];
}

async function record(middleware: (ctx: never, next: () => Promise<void>) => Promise<unknown>): Promise<HeaderOps | null> {
  const ops: HeaderOps = { set: [], remove: [] };
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      ops.set.push([name, value]);
      return res;
    },
    removeHeader(name: string) {
      ops.remove.push(name);
    },
  };
  try {
    await middleware({ req: {}, res } as never, async () => undefined);
    return ops;
  } catch {
    return null;
  }
}
