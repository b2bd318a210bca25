import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import Router from '@koa/router';
import type { GatewayMiddleware, GatewayState } from '../http/context';

/** Prometheus metrics; one registry per app instance so tests can build several apps. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'wxgate_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status', 'appid'], registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'wxgate_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly wechatCalls = new Counter({ name: 'wxgate_wechat_calls_total', help: 'Calls to WeChat by API and outcome', labelNames: ['api', 'appid', 'outcome'], registers: [this.registry] });
  readonly payNotifications = new Counter({
    name: 'wxgate_pay_notifications_total',
    help: 'WeChat Pay notifications by kind (transaction, refund) and outcome (moved, unchanged, or the refusal code)',
    labelNames: ['appid', 'kind', 'outcome'],
    registers: [this.registry],
  });
  readonly reauthorizationRequired = new Counter({
    name: 'wxgate_platform_reauthorization_required_total',
    help: "Authorizers whose refresh token WeChat refused (61023): the mini program's admin must authorize again, or run platforms sync",
    labelNames: ['component', 'appid'],
    registers: [this.registry],
  });
  readonly platformTicketAge = new Gauge({
    name: 'wxgate_platform_ticket_age_seconds',
    help: "Age of a third-party platform's latest component_verify_ticket (WeChat pushes one every 10 minutes; alert above 1800)",
    labelNames: ['component'],
    registers: [this.registry],
  });
  readonly tokenFetches = new Counter({ name: 'wxgate_token_fetches_total', help: 'Upstream access-token fetches', labelNames: ['appid', 'outcome'], registers: [this.registry] });
  readonly webhookDeliveryErrors = new Counter({
    name: 'wxgate_webhook_delivery_errors_total',
    help: 'Failed webhook delivery attempts and delivery-queue faults, by tenant (empty: the whole worker) and reason',
    labelNames: ['appid', 'reason'],
    registers: [this.registry],
  });
  readonly webhookOldestPending = new Gauge({
    name: 'wxgate_webhook_oldest_pending_seconds',
    help: "Age of the oldest queued or in-flight entry of a tenant's webhook stream (0: empty); every instance reports every tenant",
    labelNames: ['appid'],
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  middleware(): GatewayMiddleware {
    return async (ctx, next) => {
      const end = this.httpDuration.startTimer();
      try {
        await next();
      } finally {
        // The matched route pattern, not the raw path, keeps label cardinality bounded.
        const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
        end({ route });
        this.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status), appid: ctx.state.tenant?.appid ?? '' });
      }
    };
  }

  /** `/metrics`, behind `guard` when one is given (an operator's bearer token). */
  routes(guard?: GatewayMiddleware): Router<GatewayState> {
    const router = new Router<GatewayState>();
    const open: GatewayMiddleware = (_ctx, next) => next();
    router.get('/metrics', guard ?? open, async (ctx) => {
      ctx.type = this.registry.contentType;
      ctx.body = await this.registry.metrics();
    });
    return router;
  }
}
