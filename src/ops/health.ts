import Router from '@koa/router';
import type { GatewayState } from '../http/context';
import { AppError } from '../kernel/errors';

export type Probe = () => Promise<void>;

/**
 * /healthz: the process is alive. /readyz: 200 only when every dependency answers, else 503 naming
 * the ones that did not (load balancers take the instance out until it recovers).
 */
export function healthRoutes(probes: Record<string, Probe>): Router<GatewayState> {
  const router = new Router<GatewayState>();
  // Browsers ask for it; the gateway has none, and the path must never be taken for an appid.
  router.get('/favicon.ico', () => {
    throw new AppError(404, 'NOT_FOUND', 'no favicon');
  });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        try {
          await probe();
          return [name, 'ok'] as const;
        } catch {
          return [name, 'down'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const failed = results.filter(([, s]) => s !== 'ok').map(([n]) => n);
    if (failed.length) {
      ctx.status = 503;
      ctx.body = { error: { code: 'NOT_READY', message: `not ready: ${failed.join(', ')} unavailable` }, checks };
    } else {
      ctx.body = { status: 'ready', checks };
    }
  });
  return router;
}
