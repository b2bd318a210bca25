import { METRIC } from './metrics';

/**
 * Prometheus alerting rules for the gateway, built from the metric names of `./metrics` so the two
 * cannot drift (a test parses every expression and checks each name against the registry).
 * Pure: `npm run -s alerts` prints `alertRulesYaml()`.
 */

export type Severity = 'page' | 'warning';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity };
  /** `summary` is the one-line title; `description` says what is wrong and what to do. */
  annotations: { summary: string; description: string };
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: AlertRule[];
}

/** Push portal routes, as the route label records them (tenant and platform URL). */
const PORTAL_ROUTE = 'route=~".*/portal"';

const rule = (alert: string, expr: string, forDuration: string, severity: Severity, summary: string, description: string): AlertRule => ({
  alert,
  expr,
  for: forDuration,
  labels: { severity },
  annotations: { summary, description },
});

export function alertRuleGroups(): RuleGroup[] {
  const m = METRIC;
  return [
    {
      name: 'wxgate-stores',
      rules: [
        rule(
          'WxgateRedisUnavailable',
          `min by (instance) (${m.storeUp}{store="redis"}) == 0`,
          '1m',
          'page',
          'Redis unavailable to {{ $labels.instance }}',
          'The gateway cannot reach Redis: requests that need it are answered 503 STORE_UNAVAILABLE, pushes go to the local spool, webhook delivery is paused. ' +
            'Check the Redis server and the network to it (REDIS_URL); nothing to do on the gateway, it reconnects by itself and drains the spool.',
        ),
        rule(
          'WxgateMongoUnavailable',
          `min by (instance) (${m.storeUp}{store="mongodb"}) == 0`,
          '1m',
          'page',
          'MongoDB unavailable to {{ $labels.instance }}',
          'The gateway cannot reach MongoDB (or it hangs): tenants, keys and tokens already known keep working, anything new is answered 503 STORE_UNAVAILABLE. ' +
            'Check the MongoDB server and the network to it (MONGODB_URI); the gateway notices recovery within a second.',
        ),
      ],
    },
    {
      name: 'wxgate-wechat',
      rules: [
        rule(
          'WxgateTokenFetchErrors',
          `sum by (appid) (rate(${m.tokenFetches}{outcome="error"}[5m])) > 0`,
          '10m',
          'warning',
          'Access-token fetches failing for {{ $labels.appid }}',
          'WeChat refused or did not answer the access-token fetch for {{ $labels.appid }} for 10 minutes; once the current token expires every call of this tenant fails. ' +
            'Look at the gateway log for the errcode: 40125/40013 wrong appsecret (fix the tenant file and `npm run tenants -- apply <file>`), 40164 IP not in the WeChat whitelist (add the egress IPs), ' +
            'otherwise WeChat or the network to it.',
        ),
        rule(
          'WxgateWeChatQuotaCooldown',
          `sum by (appid, api) (increase(${m.wechatCalls}{outcome="45009"}[10m])) > 0`,
          '0m',
          'warning',
          'Daily WeChat quota reached: {{ $labels.appid }} {{ $labels.api }}',
          'WeChat answered 45009 (daily API quota reached): calls of this tenant to this API now fail fast for WECHAT_QUOTA_COOLDOWN_S. ' +
            'Find the caller that loops, then reset the quota in the WeChat console (or clear_quota) or wait for the daily reset.',
        ),
        rule(
          'WxgateWeChatRateLimitCooldown',
          `sum by (appid, api) (increase(${m.wechatCalls}{outcome="45011"}[10m])) > 0`,
          '0m',
          'warning',
          'WeChat rate limit hit: {{ $labels.appid }} {{ $labels.api }}',
          'WeChat answered 45011 (too frequent): calls of this tenant to this API fail fast for WECHAT_RATE_LIMIT_COOLDOWN_S. Find the client that bursts (the access log by appid) and slow it down.',
        ),
        rule(
          'WxgateWeChatUnreachable',
          `sum(rate(${m.wechatCalls}{outcome="transport"}[5m])) / sum(rate(${m.wechatCalls}[5m])) > 0.1`,
          '5m',
          'page',
          'More than 10% of calls to WeChat fail in transport',
          'Calls to WeChat time out or cannot connect (answered 502 WECHAT_UNAVAILABLE). Check outbound network, DNS and proxy from the gateway hosts, and WECHAT_API_BASE.',
        ),
      ],
    },
    {
      name: 'wxgate-http',
      rules: [
        rule(
          'WxgatePushServerErrors',
          `sum(rate(${m.httpRequests}{${PORTAL_ROUTE},status=~"5..",status!="503"}[5m])) / sum(rate(${m.httpRequests}{${PORTAL_ROUTE}}[5m])) > 0.01`,
          '5m',
          'page',
          'More than 1% of WeChat pushes answered 5xx',
          'WeChat retries a push three times and then drops it: pushes are being lost. Look for "request failed" lines (with stack) in the gateway log and roll back the last deploy if it started there.',
        ),
        rule(
          'WxgatePushUnavailable',
          `sum(rate(${m.httpRequests}{${PORTAL_ROUTE},status="503"}[5m])) > 0`,
          '5m',
          'page',
          'WeChat pushes answered 503',
          'Pushes are refused with 503: a store is unavailable (see WxgateRedisUnavailable / WxgateMongoUnavailable), or Redis is and the local spool is full (QUEUE_UNAVAILABLE). WeChat retries, then drops the push. ' +
            'Restore the store; if the spool is full, free disk or raise SPOOL_MAX_BYTES.',
        ),
        rule(
          'WxgateHttpServerErrors',
          `sum by (route) (rate(${m.httpRequests}{status=~"5.."}[5m])) / sum by (route) (rate(${m.httpRequests}[5m])) > 0.05`,
          '10m',
          'warning',
          'More than 5% of {{ $labels.route }} answered 5xx',
          'A route answers 5xx: 502 means WeChat (see the wechat alerts), 503 a store, 500 a bug (logged with its stack). Read the gateway log for that route.',
        ),
        rule(
          'WxgateSlowRequests',
          `histogram_quantile(0.99, sum by (le, route) (rate(${m.httpDuration}_bucket[5m]))) > 2.5`,
          '10m',
          'warning',
          'p99 latency of {{ $labels.route }} above 2.5 s',
          'Requests are slow: usually WeChat (WECHAT_TIMEOUT_MS), a slow store, or an overloaded instance (see WxgateEventLoopLag). Compare instances on the dashboard; add instances if all are busy.',
        ),
        rule(
          'WxgateRateLimited',
          `sum by (appid, class) (rate(${m.rateLimited}[5m])) > 1`,
          '15m',
          'warning',
          'Requests of {{ $labels.appid }} ({{ $labels.class }}) refused by its rate limit',
          "More than one request a second of this tenant's {{ $labels.class }} routes has been answered 429 RATE_LIMITED for 15 minutes: a client loops or retries without honouring Retry-After, " +
            "or the limit is too low for real traffic. Find the caller in the access log (by appid), or raise the tenant's `limits` in its file (or RATE_LIMIT_* for every tenant).",
        ),
        rule(
          'WxgateEventLoopLag',
          `max by (instance) (${m.eventLoopLagP99}) > 0.2`,
          '5m',
          'warning',
          'Event loop of {{ $labels.instance }} lagging (p99 above 200 ms)',
          'The process is CPU-bound or blocked: every request on it waits. Check CPU of the instance and its request rate; add instances or find the hot path (a CPU profile with --cpu-prof).',
        ),
      ],
    },
    {
      name: 'wxgate-webhooks',
      rules: [
        rule(
          'WxgateWebhookBacklog',
          `max by (appid) (${m.webhookOldestPending}) > 300`,
          '5m',
          'warning',
          'Webhook backlog of {{ $labels.appid }} older than 5 minutes',
          "The tenant's webhook is slow, failing or down, and its queued pushes wait (they are kept, retried with backoff). " +
            'Check `npm run tenants -- webhook status <appid>` and the WxgateWebhookDeliveryErrors reason; tell the tenant if their endpoint is down.',
        ),
        rule(
          'WxgateWebhookBacklogCritical',
          `max by (appid) (${m.webhookOldestPending}) > 1800`,
          '5m',
          'page',
          'Webhook backlog of {{ $labels.appid }} older than 30 minutes',
          'Deliveries to this tenant have been stuck for 30 minutes; after WEBHOOK_MAX_ATTEMPTS they go to dead letters. Fix or contact the webhook owner now; if every tenant is stuck, check Redis and the workers.',
        ),
        rule(
          'WxgateWebhookDeliveryErrors',
          `sum by (appid, reason) (rate(${m.webhookDeliveryErrors}[5m])) > 0.05`,
          '10m',
          'warning',
          'Webhook deliveries failing for {{ $labels.appid }} ({{ $labels.reason }})',
          'http_4xx/http_5xx/timeout/connection: the tenant endpoint refuses or is unreachable (tell the tenant); no_webhook: the tenant has no webhook configured; ' +
            'redis/redis_unavailable/queue_lost: the queue itself (check Redis); malformed_entry: a bug, see the log.',
        ),
        rule(
          'WxgateWebhookDeadLetters',
          `sum by (appid) (increase(${m.webhookDeadLetters}[15m])) > 0`,
          '0m',
          'warning',
          'Webhook deliveries of {{ $labels.appid }} dead-lettered',
          'Deliveries exhausted their attempts and were moved to dead letters (kept WEBHOOK_DEAD_RETENTION_DAYS). ' +
            'List them with `npm run tenants -- webhook dead <appid>`, fix the webhook, then `npm run tenants -- webhook redeliver <appid> --all`.',
        ),
      ],
    },
    {
      name: 'wxgate-platform-and-pay',
      rules: [
        rule(
          'WxgatePlatformTicketStale',
          `max by (component) (${m.platformTicketAge}) > 1800`,
          '5m',
          'page',
          'No component_verify_ticket for {{ $labels.component }} in 30 minutes',
          'WeChat pushes a ticket every 10 minutes; without one the component token cannot be renewed and every authorized mini program stops once it expires. ' +
            'Check the "authorization event URL" in the WeChat Open Platform console, that it reaches /platform/<componentAppid>/events through PUBLIC_BASE_URL, and the token and key in the platform file.',
        ),
        rule(
          'WxgatePlatformReauthorizationRequired',
          `sum by (component, appid) (increase(${m.reauthorizationRequired}[1h])) > 0`,
          '0m',
          'warning',
          '{{ $labels.appid }} must authorize platform {{ $labels.component }} again',
          'WeChat refused the refresh token (61023): calls for this mini program answer 403 REAUTHORIZATION_REQUIRED. ' +
            'Run `npm run tenants -- platforms sync <componentAppid>`; if it stays, send the mini program admin the link of /platform/<componentAppid>/authorize.',
        ),
        rule(
          'WxgatePayNotificationsRefused',
          `sum by (appid, kind, outcome) (increase(${m.payNotifications}{outcome!~"moved|unchanged"}[15m])) > 0`,
          '5m',
          'warning',
          'WeChat Pay {{ $labels.kind }} notifications refused for {{ $labels.appid }} ({{ $labels.outcome }})',
          'WeChat Pay notifications are being refused, so WeChat retries them and orders may not move. A signature or decryption code: check the merchant file (WeChat Pay public key, ' +
            'APIv3 key; `npm run tenants -- merchants show <mchid>`); STORE_UNAVAILABLE: see the store alerts; anything else: the gateway log.',
        ),
      ],
    },
  ];
}

/** The rule file (`groups:`), as `promtool check rules` reads it. */
export function alertRulesYaml(): string {
  return '# Generated by `npm run -s alerts` from src/ops/alert-rules.ts; do not edit by hand.\n' + toYaml({ groups: alertRuleGroups() });
}

/**
 * A small YAML emitter for plain data (objects, arrays, strings, numbers, booleans): block style,
 * strings always quoted, keys plain
 * when they are simple identifiers. Enough for rule files; no anchors, tags or multi-documents.
 */
export function toYaml(value: unknown): string {
  return emit(value, 0).join('\n') + '\n';
}

function emit(value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [pad + '[]'];
    return value.flatMap((item) => {
      const lines = isScalar(item) ? [' '.repeat(indent + 2) + scalar(item)] : emit(item, indent + 2);
      // "- " takes the place of the first line's indentation.
      return [pad + '- ' + lines[0]!.slice(indent + 2), ...lines.slice(1)];
    });
  }
  if (isScalar(value)) return [pad + scalar(value)];
  const entries = Object.entries(value as object).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return [pad + '{}'];
  return entries.flatMap(([k, v]) => {
    const key = pad + (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : JSON.stringify(k)) + ':';
    if (isScalar(v)) return [`${key} ${scalar(v)}`];
    if (Array.isArray(v) ? v.length === 0 : Object.keys(v as object).length === 0) return [`${key} ${Array.isArray(v) ? '[]' : '{}'}`];
    return [key, ...emit(v, indent + 2)];
  });
}

function isScalar(v: unknown): v is string | number | boolean | null | undefined {
  if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') throw new TypeError(`cannot write a ${typeof v} as YAML`);
  return v === null || v === undefined || typeof v !== 'object';
}

function scalar(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot write ${v} as YAML`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  // Printable ASCII reads best single-quoted (PromQL's double quotes stay as they are); anything
  // else as a JSON string, which is a valid YAML double-quoted scalar.
  return /^[\x20-\x7e]*$/.test(v) ? `'${v.replace(/'/g, "''")}'` : JSON.stringify(v);
}
