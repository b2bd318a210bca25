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
  return (ctx, next) => middleware(ctx, next);
}
