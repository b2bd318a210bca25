import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import Router from '@koa/router';
import type { GatewayMiddleware, GatewayState } from '../http/context';

/**
 * Every metric name the gateway exports, in one place: the alerting rules and the dashboard
 * (`src/ops/alert-rules.ts`, `src/ops/dashboard.ts`) are built from these, so they cannot drift.
 */
export const METRIC = {
  httpRequests: 'wxgate_http_requests_total',
  httpDuration: 'wxgate_http_request_duration_seconds',
  wechatCalls: 'wxgate_wechat_calls_total',
  payNotifications: 'wxgate_pay_notifications_total',
  reauthorizationRequired: 'wxgate_platform_reauthorization_required_total',
  platformTicketAge: 'wxgate_platform_ticket_age_seconds',
  tokenFetches: 'wxgate_token_fetches_total',
  webhookDeliveryErrors: 'wxgate_webhook_delivery_errors_total',
  webhookOldestPending: 'wxgate_webhook_oldest_pending_seconds',
  webhookDeadLetters: 'wxgate_webhook_dead_letters_total',
  rateLimited: 'wxgate_rate_limited_total',
  storeUp: 'wxgate_store_up',
  tenantCacheSize: 'wxgate_tenant_cache_size',
  /** prom-client's default process metrics (collected when Metrics is built with defaults). */
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  eventLoopLag: 'nodejs_eventloop_lag_seconds',
  processCpu: 'process_cpu_seconds_total',
  residentMemory: 'process_resident_memory_bytes',
  heapUsed: 'nodejs_heap_size_used_bytes',
} as const;

/** The `appid` label of tenants beyond the labelled ones (see Metrics.tenantLabel). */
export const OTHER_TENANTS_LABEL = '_other';

/** Stores whose availability `wxgate_store_up` reports. */
export type MetricStore = 'mongodb' | 'redis';

/** Prometheus metrics; one registry per app instance so tests can build several apps. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: METRIC.httpRequests, help: 'HTTP requests', labelNames: ['method', 'route', 'status', 'appid'], registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: METRIC.httpDuration,
    help: 'HTTP request duration',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly wechatCalls = new Counter({ name: METRIC.wechatCalls, help: 'Calls to WeChat by API and outcome', labelNames: ['api', 'appid', 'outcome'], registers: [this.registry] });
  readonly payNotifications = new Counter({
    name: METRIC.payNotifications,
    help: 'WeChat Pay notifications by kind (transaction, refund) and outcome (moved, unchanged, or the refusal code)',
    labelNames: ['appid', 'kind', 'outcome'],
    registers: [this.registry],
  });
  readonly reauthorizationRequired = new Counter({
    name: METRIC.reauthorizationRequired,
    help: "Authorizers whose refresh token WeChat refused (61023): the mini program's admin must authorize again, or run platforms sync",
    labelNames: ['component', 'appid'],
    registers: [this.registry],
  });
  readonly platformTicketAge = new Gauge({
    name: METRIC.platformTicketAge,
    help: "Age of a third-party platform's latest component_verify_ticket (WeChat pushes one every 10 minutes; alert above 1800)",
    labelNames: ['component'],
    registers: [this.registry],
  });
  readonly tokenFetches = new Counter({ name: METRIC.tokenFetches, help: 'Upstream access-token fetches', labelNames: ['appid', 'outcome'], registers: [this.registry] });
  readonly webhookDeliveryErrors = new Counter({
    name: METRIC.webhookDeliveryErrors,
    help: 'Failed webhook delivery attempts and delivery-queue faults, by tenant (empty: the whole worker) and reason',
    labelNames: ['appid', 'reason'],
    registers: [this.registry],
  });
  readonly webhookOldestPending = new Gauge({
    name: METRIC.webhookOldestPending,
    help: 'Age of the oldest queued, parked or in-flight webhook delivery of a tenant this instance sees (0: none any more); take the max across instances',
    labelNames: ['appid'],
    registers: [this.registry],
  });
  readonly webhookDeadLetters = new Counter({
    name: METRIC.webhookDeadLetters,
    help: "Webhook deliveries moved to a tenant's dead letters (attempts exhausted, no webhook, malformed entry); see `tenants webhook dead`",
    labelNames: ['appid'],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: METRIC.rateLimited,
    help: 'Requests refused 429 RATE_LIMITED by a tenant\'s own rate limit (see "Rate limits"), by tenant and kind of route',
    labelNames: ['appid', 'class'],
    registers: [this.registry],
  });
  /** Read at each scrape from the checks given to watchStores (1: the store answers, 0: it is in an outage). */
  private storeChecks: Partial<Record<MetricStore, () => boolean>> = {};
  readonly storeUp = new Gauge({
    name: METRIC.storeUp,
    help: 'Whether a store (mongodb, redis) is available to this instance: 1 yes, 0 in an outage (requests needing it are answered 503)',
    labelNames: ['store'],
    registers: [this.registry],
    collect: () => {
      for (const [store, up] of Object.entries(this.storeChecks)) this.storeUp.set({ store }, up() ? 1 : 0);
    },
  });

  /** Read at each scrape (see watchTenantCache). */
  private tenantCacheCount: () => number = () => 0;
  readonly tenantCacheSize = new Gauge({
    name: METRIC.tenantCacheSize,
    help: 'Decrypted tenants this instance holds in memory (at most TENANT_CACHE_MAX)',
    registers: [this.registry],
    collect: () => {
      this.tenantCacheSize.set(this.tenantCacheCount());
    },
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  /** Tells `wxgate_store_up` how to see each store's state (cheap, synchronous checks: read at every scrape). */
  watchStores(checks: Partial<Record<MetricStore, () => boolean>>): void {
    this.storeChecks = { ...this.storeChecks, ...checks };
  }

  /** Appids that have their own `appid` label value; at most tenantLabelLimit (TENANT_CACHE_MAX). */
  private readonly labelled = new Set<string>();
  private tenantLabelLimit = 10_000;

  /** Most tenants with their own series (TENANT_CACHE_MAX in the gateway). */
  limitTenantLabels(max: number): void {
    this.tenantLabelLimit = max;
  }

  /**
   * The `appid` label value for a tenant: its appid for the first `tenantLabelLimit` tenants this
   * instance labels, `_other` beyond. Each series stays in the registry for the process's life, so
   * without a bound a gateway serving 100 000 tenants would hold 100 000 series per metric (and a
   * Prometheus scraping them would fare worse).
   */
  tenantLabel(appid: string): string {
    if (appid === '' || this.labelled.has(appid)) return appid;
    if (this.labelled.size >= this.tenantLabelLimit) return OTHER_TENANTS_LABEL;
    this.labelled.add(appid);
    return appid;
  }

  /** Tells `wxgate_tenant_cache_size` how to read the tenant cache's size (at every scrape). */
  watchTenantCache(size: () => number): void {
    this.tenantCacheCount = size;
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
        this.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status), appid: this.tenantLabel(ctx.state.tenant?.appid ?? '') });
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
