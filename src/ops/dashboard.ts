import { METRIC } from './metrics';

/**
 * A Grafana dashboard for the gateway, built from the metric names of `./metrics` (as the alerting
 * rules are). Pure: `npm run -s dashboard` prints it; import it in Grafana and pick the Prometheus
 * data source.
 */

export interface DashboardTarget {
  expr: string;
  legendFormat: string;
  refId: string;
}

export interface DashboardPanel {
  id: number;
  type: 'timeseries' | 'stat' | 'row';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: 'prometheus'; uid: string };
  targets?: DashboardTarget[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
  collapsed?: boolean;
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: string;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Record<string, unknown>[] };
  annotations: { list: unknown[] };
  panels: DashboardPanel[];
}

const DS = { type: 'prometheus' as const, uid: '${datasource}' };
/** Tenant filter, applied to every per-tenant series (`.*` by default). */
const T = 'appid=~"$appid"';

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: [expr: string, legend: string][];
  stat?: boolean;
  /** A threshold drawn in red (the alert's). */
  red?: number;
  /** For stats: show values 0/1 as down/up. */
  upDown?: boolean;
}

export function buildDashboard(): Dashboard {
  const m = METRIC;
  const rows: [string, PanelSpec[]][] = [
    [
      'Traffic',
      [
        {
          title: 'Requests by status',
          description: 'Every HTTP answer, by status code.',
          unit: 'reqps',
          targets: [[`sum by (status) (rate(${m.httpRequests}{${T}}[$__rate_interval]))`, '{{status}}']],
        },
        {
          title: 'Push portal answers by status',
          description: 'WeChat pushes (tenant and platform URLs): 5xx and 503 mean WeChat retries, then drops (alerts WxgatePushServerErrors, WxgatePushUnavailable).',
          unit: 'reqps',
          targets: [[`sum by (status) (rate(${m.httpRequests}{route=~".*/portal",${T}}[$__rate_interval]))`, '{{status}}']],
        },
        {
          title: 'p99 latency by route',
          description: 'Alert WxgateSlowRequests above 2.5 s.',
          unit: 's',
          red: 2.5,
          targets: [[`histogram_quantile(0.99, sum by (le, route) (rate(${m.httpDuration}_bucket[$__rate_interval])))`, '{{route}}']],
        },
        {
          title: 'Rate-limited requests',
          description: "Requests answered 429 RATE_LIMITED by a tenant's own limit, by tenant and kind of route (alert WxgateRateLimited above 1/s).",
          unit: 'reqps',
          red: 1,
          targets: [[`sum by (appid, class) (rate(${m.rateLimited}{${T}}[$__rate_interval]))`, '{{appid}} {{class}}']],
        },
        {
          title: 'Requests by route',
          description: 'Request rate and mean duration per matched route.',
          unit: 'reqps',
          targets: [[`sum by (route) (rate(${m.httpDuration}_count[$__rate_interval]))`, '{{route}}']],
        },
      ],
    ],
    [
      'Stores and process',
      [
        {
          title: 'Redis up',
          description: '1: every instance reaches Redis (alert WxgateRedisUnavailable).',
          unit: 'none',
          stat: true,
          upDown: true,
          targets: [[`min(${m.storeUp}{store="redis"})`, 'redis']],
        },
        {
          title: 'MongoDB up',
          description: '1: every instance reaches MongoDB (alert WxgateMongoUnavailable).',
          unit: 'none',
          stat: true,
          upDown: true,
          targets: [[`min(${m.storeUp}{store="mongodb"})`, 'mongodb']],
        },
        {
          title: 'Store availability by instance',
          description: 'wxgate_store_up per instance and store.',
          unit: 'none',
          targets: [[`${m.storeUp}`, '{{instance}} {{store}}']],
        },
        {
          title: 'Event-loop lag p99',
          description: 'Alert WxgateEventLoopLag above 200 ms.',
          unit: 's',
          red: 0.2,
          targets: [
            [`${m.eventLoopLagP99}`, 'p99 {{instance}}'],
            [`${m.eventLoopLag}`, 'last {{instance}}'],
          ],
        },
        {
          title: 'CPU',
          description: 'CPU seconds per second per instance (1 = one core busy).',
          unit: 'percentunit',
          targets: [[`rate(${m.processCpu}[$__rate_interval])`, '{{instance}}']],
        },
        {
          title: 'Resident memory',
          description: 'Resident set size per instance.',
          unit: 'bytes',
          targets: [[`${m.residentMemory}`, '{{instance}}']],
        },
        {
          title: 'Tenant cache size',
          description: 'Decrypted tenants each instance holds in memory: at most TENANT_CACHE_MAX (least recently used dropped first).',
          unit: 'none',
          targets: [[`${m.tenantCacheSize}`, '{{instance}}']],
        },
      ],
    ],
    [
      'WeChat',
      [
        {
          title: 'WeChat calls by outcome',
          description: 'ok, an errcode (45009 daily quota, 45011 rate limit: cool-downs), or transport (unreachable).',
          unit: 'reqps',
          targets: [[`sum by (outcome) (rate(${m.wechatCalls}{${T}}[$__rate_interval]))`, '{{outcome}}']],
        },
        {
          title: 'Quota and rate-limit cool-downs',
          description: '45009/45011 answers by tenant and API (alerts WxgateWeChatQuotaCooldown, WxgateWeChatRateLimitCooldown).',
          unit: 'short',
          targets: [[`sum by (appid, api, outcome) (increase(${m.wechatCalls}{outcome=~"45009|45011",${T}}[$__range]))`, '{{appid}} {{api}} {{outcome}}']],
        },
        {
          title: 'Access-token fetches',
          description: 'Upstream token fetches by outcome (alert WxgateTokenFetchErrors on errors).',
          unit: 'reqps',
          targets: [[`sum by (appid, outcome) (rate(${m.tokenFetches}{${T}}[$__rate_interval]))`, '{{appid}} {{outcome}}']],
        },
      ],
    ],
    [
      'Webhooks',
      [
        {
          title: 'Oldest pending delivery',
          description: 'Age of the oldest queued or in-flight delivery per tenant (alerts above 300 s and 1800 s).',
          unit: 's',
          red: 300,
          targets: [[`max by (appid) (${m.webhookOldestPending}{${T}})`, '{{appid}}']],
        },
        {
          title: 'Delivery errors by reason',
          description: 'Failed attempts and queue faults (alert WxgateWebhookDeliveryErrors).',
          unit: 'reqps',
          targets: [[`sum by (appid, reason) (rate(${m.webhookDeliveryErrors}{${T}}[$__rate_interval]))`, '{{appid}} {{reason}}']],
        },
        {
          title: 'Dead letters',
          description: 'Deliveries moved to dead letters in the range (alert WxgateWebhookDeadLetters); `tenants webhook dead <appid>`.',
          unit: 'short',
          stat: true,
          red: 1,
          targets: [[`sum(increase(${m.webhookDeadLetters}{${T}}[$__range]))`, 'dead letters']],
        },
      ],
    ],
    [
      'Platform and Pay',
      [
        {
          title: 'component_verify_ticket age',
          description: 'WeChat pushes one every 10 minutes; alert WxgatePlatformTicketStale above 1800 s.',
          unit: 's',
          red: 1800,
          targets: [[`max by (component) (${m.platformTicketAge})`, '{{component}}']],
        },
        {
          title: 'Reauthorization required',
          description: 'Authorizers whose refresh token WeChat refused (61023) in the range.',
          unit: 'short',
          stat: true,
          red: 1,
          targets: [[`sum(increase(${m.reauthorizationRequired}[$__range]))`, 'reauthorizations']],
        },
        {
          title: 'Pay notifications by outcome',
          description: 'moved, unchanged, or the refusal code (alert WxgatePayNotificationsRefused).',
          unit: 'reqps',
          targets: [[`sum by (kind, outcome) (rate(${m.payNotifications}{${T}}[$__rate_interval]))`, '{{kind}} {{outcome}}']],
        },
      ],
    ],
  ];

  const panels: DashboardPanel[] = [];
  let id = 1;
  let y = 0;
  for (const [title, specs] of rows) {
    panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    for (const spec of specs) {
      const w = spec.stat ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += 8;
      }
      panels.push(panel(id++, spec, { x, y, w, h: 8 }));
      x += w;
    }
    y += 8;
  }

  return {
    uid: 'wxgate',
    title: 'wxgate',
    tags: ['wxgate'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        {
          name: 'appid',
          label: 'Tenant',
          type: 'query',
          datasource: DS,
          query: { query: `label_values(${m.httpRequests}, appid)`, refId: 'appid' },
          definition: `label_values(${m.httpRequests}, appid)`,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

function panel(id: number, spec: PanelSpec, gridPos: DashboardPanel['gridPos']): DashboardPanel {
  const thresholds = {
    mode: 'absolute',
    steps: spec.upDown
      ? [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ]
      : [{ color: 'green', value: null }, ...(spec.red === undefined ? [] : [{ color: 'red', value: spec.red }])],
  };
  const defaults: Record<string, unknown> = { unit: spec.unit, thresholds };
  if (spec.upDown)
    defaults.mappings = [
      {
        type: 'value',
        options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } },
      },
    ];
  if (!spec.stat) defaults.custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', thresholdsStyle: { mode: spec.red === undefined ? 'off' : 'line' } };
  return {
    id,
    type: spec.stat ? 'stat' : 'timeseries',
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DS,
    targets: spec.targets.map(([expr, legendFormat], i) => ({ expr, legendFormat, refId: String.fromCharCode(65 + i) })),
    fieldConfig: { defaults, overrides: [] },
    options: spec.stat
      ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value' }
      : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

/** The dashboard as Grafana imports it. */
export function dashboardJson(): string {
  return JSON.stringify(buildDashboard(), null, 2) + '\n';
}
