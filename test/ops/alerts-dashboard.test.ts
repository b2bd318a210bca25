import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { Metrics } from '../../src/ops/metrics';
import { repoRoot } from '../../src/devstack/mongo-server';
import { alertRuleGroups, alertRulesYaml, toYaml } from '../../src/ops/alert-rules';
import { buildDashboard, dashboardJson, type DashboardPanel } from '../../src/ops/dashboard';

/** The rules and the dashboard are generated from the metric names; this keeps them and the registry in step. */
describe('ops: alerting rules and dashboard match the metrics', () => {
  const registered = new Set(
    new Metrics(true).registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((n) => n !== undefined),
  );
  const rules = alertRuleGroups().flatMap((g) => g.rules);
  const panels = (list: DashboardPanel[]): DashboardPanel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
  const dashboard = buildDashboard();
  const targets = panels(dashboard.panels).flatMap((p) => p.targets ?? []);
  const namesIn = (expr: string) => [...expr.matchAll(/\b(?:wxgate|nodejs|process)_[a-z0-9_]+/g)].map((m) => m[0]);
  /** A histogram's series carry _bucket/_sum/_count after the registered name. */
  const base = (name: string) => (registered.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));

  it('every metric in a rule or a panel is registered', () => {
    const unknown = [...rules.map((r) => r.expr), ...targets.map((t) => t.expr)].flatMap(namesIn).filter((n) => !registered.has(base(n)));
    expect(unknown).to.deep.equal([]);
  });

  it('every wxgate_* metric is in at least one rule or panel; every rule metric is on the dashboard', () => {
    const inRules = new Set(rules.flatMap((r) => namesIn(r.expr)).map(base));
    const inPanels = new Set(targets.flatMap((t) => namesIn(t.expr)).map(base));
    const wxgate = [...registered].filter((n) => n.startsWith('wxgate_'));
    expect(wxgate.filter((n) => !inRules.has(n) && !inPanels.has(n))).to.deep.equal([]);
    expect([...inRules].filter((n) => !inPanels.has(n))).to.deep.equal([]);
    // Event-loop lag comes from prom-client's default metrics.
    expect(inRules.has('nodejs_eventloop_lag_p99_seconds')).to.equal(true);
  });

  it('covers the issue list of alerts', () => {
    const names = rules.map((r) => r.alert);
    for (const a of [
      'WxgateTokenFetchErrors',
      'WxgateWeChatQuotaCooldown',
      'WxgateWeChatRateLimitCooldown',
      'WxgatePushServerErrors',
      'WxgatePushUnavailable',
      'WxgateWebhookBacklog',
      'WxgateWebhookDeliveryErrors',
      'WxgateWebhookDeadLetters',
      'WxgateRedisUnavailable',
      'WxgateMongoUnavailable',
      'WxgateEventLoopLag',
      'WxgatePlatformTicketStale',
      'WxgatePlatformReauthorizationRequired',
      'WxgatePayNotificationsRefused',
    ])
      expect(names, a).to.include(a);
    expect(new Set(names).size, 'unique alert names').to.equal(names.length);
  });

  it('every rule has a for, a severity, a summary and a description', () => {
    for (const r of rules) {
      expect(r.for, r.alert).to.match(/^\d+[smh]$/);
      expect(['page', 'warning'], r.alert).to.include(r.labels.severity);
      expect(r.annotations.summary.length, r.alert).to.be.greaterThan(10);
      expect(r.annotations.description.length, r.alert).to.be.greaterThan(40);
      // Brackets and parentheses balance (a cheap syntax check of the PromQL).
      for (const [open, close] of ['()', '{}', '[]']) expect(r.expr.split(open!).length, `${r.alert} ${open}${close}`).to.equal(r.expr.split(close!).length);
    }
  });

  it('prints YAML that parses back to the rule groups', () => {
    const text = alertRulesYaml();
    expect(load(text)).to.deep.equal({ groups: JSON.parse(JSON.stringify(alertRuleGroups())) as unknown });
  });

  it('writes YAML scalars, quotes and nesting that a YAML parser reads back', () => {
    const value = { a: 'it\'s "quoted" {{ $labels.x }}', b: ['x', { c: 1, d: [] }, [true, null]], 'e f': {}, g: 'ünïcode\nline', h: -1.5 };
    expect(load(toYaml(value))).to.deep.equal(value);
  });

  it('prints dashboard JSON that parses, with unique panel ids and a Prometheus target on every panel', () => {
    const parsed = JSON.parse(dashboardJson()) as typeof dashboard;
    expect(parsed.schemaVersion).to.equal(39);
    const all = panels(parsed.panels);
    const ids = all.map((p) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const p of all.filter((p) => p.type !== 'row')) {
      expect(['timeseries', 'stat'], p.title).to.include(p.type);
      expect(p.targets?.length, p.title).to.be.greaterThan(0);
      for (const t of p.targets!) expect(t.refId, p.title).to.match(/^[A-Z]$/);
    }
  });

  it('README "Alerts and dashboards" has one row per rule, with its severity', () => {
    const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
    const start = readme.indexOf('## Alerts and dashboards');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const rows = [...section.matchAll(/^\| `(Wxgate[A-Za-z]+)` \| (page|warning) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).to.deep.equal(rules.map((r) => `${r.alert} ${r.labels.severity}`));
  });
});
