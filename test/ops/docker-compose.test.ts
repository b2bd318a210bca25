import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { load, YAML11_SCHEMA } from 'js-yaml';
import { configSpec } from '../../src/kernel/config';
import { repoRoot } from '../../src/devstack/mongo-server';
import { HEALTH_PATHS } from '../../src/ops/k8s-manifests';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking a parsed YAML document */
type Doc = any;

/**
 * docker-compose.yml, parsed with a YAML library (no Docker engine on the build machines): the
 * `replicas` profile runs three gateways behind nginx, whose configuration is inline.
 */
describe('ops: docker-compose.yml', () => {
  const text = readFileSync(path.join(repoRoot(), 'docker-compose.yml'), 'utf8');
  // YAML 1.1, as Compose reads it: `<<: *gateway` merge keys are expanded.
  const compose = load(text, { schema: YAML11_SCHEMA }) as Doc;
  const services: Record<string, Doc> = compose.services;
  const gatewayNames = Object.keys(services).filter((n) => /^gateway(-\d+)?$/.test(n));
  const replicas = (name: string) => (services[name].profiles ?? []).includes('replicas');
  const nginxConf: string = compose.configs['nginx-replicas'].content;

  it('the replicas profile adds two gateways to the default one, and nginx; the default stack stays one gateway', () => {
    expect(gatewayNames.sort()).to.deep.equal(['gateway', 'gateway-2', 'gateway-3']);
    expect(services.gateway.profiles).to.equal(undefined);
    expect(replicas('gateway-2') && replicas('gateway-3') && replicas('nginx')).to.equal(true);
    for (const n of ['mongo', 'redis']) expect(services[n].profiles, n).to.equal(undefined);
  });

  it('every gateway has the same image, environment and health check, and a spool volume of its own at SPOOL_DIR', () => {
    const spools = new Set<string>();
    for (const n of gatewayNames) {
      const g = services[n];
      expect(g.build, n).to.equal('.');
      expect(g.environment, n).to.deep.equal(services.gateway.environment);
      const mount = (g.volumes as string[]).find((v) => v.endsWith(':' + g.environment.SPOOL_DIR));
      expect(mount, `${n} spool`).to.be.a('string');
      spools.add(mount!.split(':')[0]!);
      expect(compose.volumes).to.have.property(mount!.split(':')[0]!);
      expect(g.healthcheck.test.join(' '), n).to.contain(`:${g.environment.PORT}${HEALTH_PATHS.readiness}`);
      expect(g.depends_on.mongo.condition).to.equal('service_healthy');
      expect(g.depends_on.redis.condition).to.equal('service_healthy');
    }
    expect(spools.size, 'two gateways share a spool volume').to.equal(gatewayNames.length);
  });

  it('names only configuration variables in the gateways’ environment', () => {
    for (const n of gatewayNames) for (const name of Object.keys(services[n].environment)) expect(configSpec, `${n}: ${name}`).to.have.property(name);
  });

  it('nginx proxies to an upstream listing the three gateways on their PORT, and waits for them to be healthy', () => {
    const upstream = /upstream\s+(\w+)\s*\{([^}]*)\}/.exec(nginxConf);
    expect(upstream, 'upstream block').to.not.equal(null);
    const servers = [...upstream![2]!.matchAll(/server\s+([\w.-]+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers.sort()).to.deep.equal(gatewayNames.map((n) => `${n}:${services[n].environment.PORT}`).sort());
    expect(nginxConf).to.contain(`proxy_pass http://${upstream![1]};`);
    expect(services.nginx.configs).to.deep.include({ source: 'nginx-replicas', target: '/etc/nginx/conf.d/default.conf' });
    for (const n of gatewayNames) expect(services.nginx.depends_on[n], n).to.deep.equal({ condition: 'service_healthy' });
    expect(services.nginx.healthcheck.test.join(' ')).to.contain(HEALTH_PATHS.liveness);
  });

  it("escapes nginx's variables from Compose's interpolation ($$name)", () => {
    expect(nginxConf).to.match(/\$\$host/);
    expect(nginxConf.replace(/\$\$/g, '')).not.to.contain('$');
  });

  it('lets a gateway finish its graceful shutdown before Docker kills it', () => {
    const graceMs = Number(configSpec.SHUTDOWN_GRACE_MS.default);
    for (const n of gatewayNames) expect(parseInt(services[n].stop_grace_period, 10) * 1000, n).to.be.greaterThan(graceMs);
  });
});
