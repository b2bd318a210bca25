import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { loadAll, YAML11_SCHEMA } from 'js-yaml';
import { configSpec } from '../../src/kernel/config';
import { isSecretVar } from '../../src/ops/k8s-manifests';
import { K8S_HELP, k8sYaml } from '../../scripts/k8s';
import { SOAK_HELP } from '../../scripts/soak';
import { repoRoot } from '../../src/devstack/mongo-server';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { request, stopAll } from '../support/gateway-helpers';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking parsed YAML documents */
type Doc = any;

const specNames = Object.keys(configSpec).sort();

/**
 * `npm run -s k8s -- <args>` as objects, parsed back with a YAML library, as YAML 1.1 like kubectl
 * (where an unquoted `off` or `yes` would be a boolean, and a ConfigMap refuses it).
 */
function manifests(args: string[] = []): Doc[] {
  return (loadAll(k8sYaml(args), { schema: YAML11_SCHEMA }) as Doc[]).filter((d) => d !== null && d !== undefined);
}

function one(docs: Doc[], kind: string, name?: string): Doc {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).to.have.length(1);
  return found[0];
}

describe('ops: Kubernetes manifests (npm run -s k8s)', function () {
  this.timeout(60_000);

  const docs = manifests(['--namespace', 'shop-gw', '--image', 'registry.example.com/wxgate:1.2.3', '--replicas', '2']);
  const configMap = one(docs, 'ConfigMap');
  const secret = one(docs, 'Secret');
  const sts = one(docs, 'StatefulSet');
  const pod = sts.spec.template.spec;
  const container = pod.containers[0];

  it('prints ConfigMap, Secret, two Services, StatefulSet, HorizontalPodAutoscaler and PodDisruptionBudget, all in the namespace', () => {
    expect(docs.map((d) => d.kind).sort()).to.deep.equal(['ConfigMap', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'StatefulSet']);
    for (const d of docs) expect(d.metadata.namespace, `${d.kind} ${d.metadata.name}`).to.equal('shop-gw');
    expect(container.image).to.equal('registry.example.com/wxgate:1.2.3');
    expect(sts.spec.replicas).to.equal(2);
  });

  it("sets exactly the configuration spec's variables in the container, each from the ConfigMap or the Secret", () => {
    const env: { name: string; valueFrom: Doc }[] = container.env;
    expect(env.map((e) => e.name).sort()).to.deep.equal(specNames);
    for (const e of env) {
      const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
      expect(ref.key, e.name).to.equal(e.name);
      expect(ref.name, e.name).to.equal(isSecretVar(e.name) ? secret.metadata.name : configMap.metadata.name);
      expect(Object.keys(e.valueFrom), e.name).to.deep.equal([isSecretVar(e.name) ? 'secretKeyRef' : 'configMapKeyRef']);
    }
    expect([...Object.keys(configMap.data), ...Object.keys(secret.stringData)].sort()).to.deep.equal(specNames);
  });

  it('keeps every secret variable in the Secret and out of the ConfigMap', () => {
    const secrets = specNames.filter(isSecretVar);
    expect(secrets).to.include.members(['SECRETS_KEY', 'ADMIN_TOKEN', 'METRICS_TOKEN', 'MONGODB_URI', 'REDIS_URL']);
    // A new key, token or password variable added without `secret: true` fails here.
    for (const n of specNames.filter((x) => /KEY|TOKEN|SECRET|PASSWORD/.test(x))) expect(isSecretVar(n), `${n} should be marked secret: true`).to.equal(true);
    expect(Object.keys(secret.stringData).sort()).to.deep.equal(secrets);
    for (const n of secrets) expect(configMap.data, n).not.to.have.property(n);
    // Required secrets are printed empty, never with a made-up value.
    expect(secret.stringData.SECRETS_KEY).to.equal('');
    expect(secret.stringData.ADMIN_TOKEN).to.equal('');
    // ConfigMap and Secret values are strings (Kubernetes refuses numbers there).
    for (const v of [...Object.values(configMap.data), ...Object.values(secret.stringData)]) expect(v).to.be.a('string');
  });

  it('probes /readyz and /healthz on the named container port, which is PORT; the Services target it', () => {
    const port = container.ports.find((p: Doc) => p.name === 'http');
    expect(port.containerPort).to.equal(Number(configMap.data.PORT));
    expect(container.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'http' });
    expect(container.startupProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'http' });
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      expect(svc.spec.ports[0].targetPort).to.equal('http');
      expect(sts.spec.template.metadata.labels).to.include(svc.spec.selector);
    }
    expect(sts.spec.serviceName).to.equal(one(docs, 'Service', 'wxgate-headless').metadata.name);
    expect(one(docs, 'Service', 'wxgate-headless').spec.clusterIP).to.equal('None');
  });

  it('a real gateway started with the ConfigMap values answers 200 on both probe paths', async () => {
    // The ConfigMap's values must be ones the gateway accepts; the stores and the port are the test's.
    // startGateway gives each process a temporary spool instead of SPOOL_DIR.
    const { SPOOL_DIR: _spool, ...values } = configMap.data as Record<string, string>;
    const env: Record<string, string> = { ...values, HOST: '127.0.0.1', PORT: '0' };
    let gw: GatewayProcess | undefined;
    try {
      gw = await startGateway(env, 30_000);
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        const r = await request(gw.url + probe.httpGet.path, { signal: AbortSignal.timeout(5000) });
        expect(r.status, `${probe.httpGet.path}: ${r.text}`).to.equal(200);
      }
      // And a path that is not a probe is not 200 (the check above can fail).
      expect((await request(gw.url + '/readyzz', { signal: AbortSignal.timeout(5000) })).status).not.to.equal(200);
    } finally {
      await stopAll([gw]);
    }
  });

  it('gives shutdown time: preStop delay + SHUTDOWN_GRACE_MS fit in terminationGracePeriodSeconds, for the default and a longer grace', () => {
    for (const [grace, d] of [
      [Number(configMap.data.SHUTDOWN_GRACE_MS), docs],
      [60_000, manifests(['--set', 'SHUTDOWN_GRACE_MS=60000'])],
    ] as const) {
      const c = one(d, 'StatefulSet').spec.template.spec;
      const cmd: string[] = c.containers[0].lifecycle.preStop.exec.command;
      expect(cmd[0]).to.equal('sleep');
      const delayS = Number(cmd[1]);
      expect(delayS).to.be.greaterThan(0);
      expect(c.terminationGracePeriodSeconds * 1000, `grace ${grace}`).to.be.at.least(delayS * 1000 + grace + 1000);
      expect(one(d, 'ConfigMap').data.SHUTDOWN_GRACE_MS).to.equal(String(grace));
    }
  });

  it('mounts a per-replica persistent spool volume at SPOOL_DIR', () => {
    expect(container.volumeMounts).to.deep.include({ name: 'spool', mountPath: configMap.data.SPOOL_DIR });
    const claim = sts.spec.volumeClaimTemplates.find((v: Doc) => v.metadata.name === 'spool');
    expect(claim.spec.accessModes).to.deep.equal(['ReadWriteOnce']);
    expect(claim.spec.resources.requests.storage).to.equal('1Gi');
    expect(pod.volumes ?? []).not.to.deep.include({ name: 'spool', emptyDir: {} });
  });

  it('sets resource requests and a memory limit; the autoscaler and the disruption budget select the StatefulSet', () => {
    expect(container.resources.requests).to.have.keys('cpu', 'memory');
    expect(container.resources.limits).to.have.key('memory');
    const hpa = one(docs, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).to.deep.equal({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name });
    expect(hpa.spec.minReplicas).to.equal(2);
    expect(hpa.spec.maxReplicas).to.equal(6);
    const pdb = one(docs, 'PodDisruptionBudget');
    expect(sts.spec.template.metadata.labels).to.include(pdb.spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).to.equal(1);
  });

  it('--set puts a value where it belongs, checked as at start-up; --no-secret leaves the Secret out', () => {
    const uri = 'mongodb://mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/wxgate?replicaSet=rs0&w=majority';
    const d = manifests(['--set', `MONGODB_URI=${uri}`, '--set', 'LOG_LEVEL=warn', '--set', 'RATE_LIMIT_LOGIN=off']);
    expect(one(d, 'ConfigMap').data.RATE_LIMIT_LOGIN).to.equal('off');
    expect(one(d, 'Secret').stringData.MONGODB_URI).to.equal(uri);
    expect(one(d, 'ConfigMap').data.LOG_LEVEL).to.equal('warn');
    expect(() => manifests(['--set', 'PORT=abc'])).to.throw(/PORT: expected an integer/);
    expect(() => manifests(['--set', 'NOT_A_SETTING=1'])).to.throw(/NOT_A_SETTING is not a configuration variable/);
    expect(() => manifests(['--replicas', '0'])).to.throw(/--replicas/);
    expect(() => manifests(['--bogus'])).to.throw(/unknown option --bogus/);
    expect(manifests(['--no-secret']).map((x) => x.kind)).not.to.include('Secret');
  });

  it('the README shows `npm run k8s` and `npm run soak` usage exactly as --help prints it', () => {
    const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
    expect(readme).to.contain('```text\n' + K8S_HELP + '\n```');
    expect(readme).to.contain('```text\n' + SOAK_HELP + '\n```');
  });

  it('--help lists every flag the parser takes', () => {
    expect(k8sYaml(['--help'])).to.equal(K8S_HELP + '\n');
    for (const flag of ['--namespace', '--image', '--replicas', '--max-replicas', '--spool-size', '--storage-class', '--set', '--no-secret']) expect(K8S_HELP).to.contain(flag);
  });
});
