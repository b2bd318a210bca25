import { z } from 'zod';
import { configSpec } from '../kernel/config';

/**
 * Kubernetes manifests for the gateway, built from the configuration spec (src/kernel/config.ts)
 * so the env table, the ConfigMap, the Secret and the container's environment cannot drift.
 * Pure: returns plain objects; `npm run -s k8s` serialises them as YAML.
 *
 * The workload is a StatefulSet, not a Deployment: each replica keeps its push spool (SPOOL_DIR) on
 * its own PersistentVolumeClaim, which a replacement pod of the same ordinal mounts again and drains.
 * A Deployment's emptyDir would be deleted with the pod, and with it every push accepted while Redis
 * was unreachable.
 */

export interface K8sOptions {
  /** Namespace of every object. */
  namespace: string;
  /** Container image, e.g. `registry.example.com/wxgate:1.4.0`. */
  image: string;
  /** Replicas at rest: the StatefulSet's replicas and the autoscaler's minimum. */
  replicas: number;
  /** The autoscaler's maximum. */
  maxReplicas: number;
  /** Size of each replica's spool volume (a Kubernetes quantity). */
  spoolSize: string;
  /** Storage class of the spool volumes; the cluster's default when absent. */
  storageClass?: string;
  /** Values for the ConfigMap and the Secret, by variable name, over the defaults below. */
  values: Record<string, string>;
  /** Leave the Secret out (re-applying after its values were filled in must not blank them). */
  withSecret: boolean;
}

export const APP = 'wxgate';
/** Port the container listens on (PORT in the ConfigMap), named so probes and Service refer to it by name. */
export const CONTAINER_PORT = 3000;
/** Where the image keeps the spool (Dockerfile: `SPOOL_DIR=/app/spool`, owned by the `node` user). */
export const SPOOL_MOUNT = '/app/spool';
/** Seconds the pod keeps serving after it is marked terminating, while endpoints and load balancers forget it. */
export const PRESTOP_DELAY_S = 5;
/** After SHUTDOWN_GRACE_MS: closing the stores and stopping the delivery worker. */
export const CLOSE_MARGIN_S = 10;
export const HEALTH_PATHS = { liveness: '/healthz', readiness: '/readyz' } as const;

type VarName = keyof typeof configSpec;

/** True for a variable the spec marks `secret: true` (it goes in the Secret, never in the ConfigMap). */
export function isSecretVar(name: string): boolean {
  const entry = (configSpec as Record<string, object>)[name];
  return entry !== undefined && 'secret' in entry && entry.secret === true;
}

/** True for a variable the gateway accepts unset (no default, and its rule takes no value). */
function isOptional(name: VarName): boolean {
  const entry = configSpec[name];
  return entry.default === undefined && (entry.schema as z.ZodType<unknown, string | undefined>).safeParse(undefined).success;
}

/** What the manifests set where the spec's default is meant for a laptop (services named as in docker-compose). */
export const K8S_VALUE_DEFAULTS: Readonly<Record<string, string>> = {
  PORT: String(CONTAINER_PORT),
  HOST: '0.0.0.0',
  SPOOL_DIR: SPOOL_MOUNT,
  MONGODB_URI: 'mongodb://mongodb:27017/wxgate',
  REDIS_URL: 'redis://redis:6379',
};

/**
 * Every variable's value: `opts.values`, else the Kubernetes default above, else the spec's default,
 * else '' (the gateway reads an empty variable as unset). Throws on an unknown name, and on a value
 * the gateway would refuse at start-up (an empty required one is allowed: it is filled in later).
 */
export function resolveValues(values: Record<string, string>): Record<VarName, string> {
  for (const name of Object.keys(values)) {
    if (!(name in configSpec)) throw new Error(`${name} is not a configuration variable (see the README's Configuration table)`);
  }
  const out = {} as Record<VarName, string>;
  for (const name of Object.keys(configSpec) as VarName[]) {
    const v = values[name] ?? K8S_VALUE_DEFAULTS[name] ?? configSpec[name].default ?? '';
    if (v !== '') {
      const parsed = (configSpec[name].schema as z.ZodType<unknown, string>).safeParse(v);
      if (!parsed.success) throw new Error(`${name}: expected ${parsed.error.issues[0]?.message ?? 'a valid value'}`);
    }
    out[name] = v;
  }
  return out;
}

/** Seconds Kubernetes waits between SIGTERM-after-preStop and SIGKILL: the delay, the gateway's grace, and closing. */
export function terminationGraceSeconds(shutdownGraceMs: number): number {
  return PRESTOP_DELAY_S + Math.ceil(shutdownGraceMs / 1000) + CLOSE_MARGIN_S;
}

export function k8sManifests(opts: K8sOptions): Record<string, unknown>[] {
  const { namespace } = opts;
  const values = resolveValues(opts.values);
  const names = Object.keys(configSpec) as VarName[];
  const secretNames = names.filter(isSecretVar);
  const plainNames = names.filter((n) => !isSecretVar(n));
  const labels = { 'app.kubernetes.io/name': APP };
  const meta = (name: string) => ({ name, namespace, labels });
  const configName = `${APP}-config`;
  const secretName = `${APP}-secrets`;
  const graceMs = Number(values.SHUTDOWN_GRACE_MS);

  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(configName), data: Object.fromEntries(plainNames.map((n) => [n, values[n]])) };
  // stringData: plain text in the file, base64 in the cluster. Required secrets are left empty here, so
  // a pod started before they are filled in stops at once naming the missing variable.
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: meta(secretName), type: 'Opaque', stringData: Object.fromEntries(secretNames.map((n) => [n, values[n]])) };

  // One env entry per variable, by name, rather than envFrom: the pod spec then lists the whole table,
  // and a key missing from the ConfigMap or the Secret fails the pod instead of passing unnoticed.
  // An optional variable's key may be missing (a Secret made before the variable existed).
  const env = names.map((n) => {
    const ref = { name: isSecretVar(n) ? secretName : configName, key: n, ...(isOptional(n) ? { optional: true } : {}) };
    return { name: n, valueFrom: isSecretVar(n) ? { secretKeyRef: ref } : { configMapKeyRef: ref } };
  });

  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });

  const statefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(APP),
    spec: {
      serviceName: `${APP}-headless`,
      replicas: opts.replicas,
      // Replicas are interchangeable: start and stop them together, not one ordinal after another.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      // A volume of a replica scaled away is kept, so its spool is drained when that ordinal returns.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: terminationGraceSeconds(graceMs),
          // The image runs as `node` (uid 1000); the volume is made writable for its group.
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          containers: [
            {
              name: APP,
              image: opts.image,
              ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
              env,
              // Memory limit = request: a leak ends in a restart of this pod, not in pressure on its
              // neighbours. No CPU limit: throttling a Node process adds event-loop lag to every request.
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
              // The process listens only once MongoDB and Redis answered: give it a minute to start.
              startupProbe: probe(HEALTH_PATHS.liveness, 2, 30),
              livenessProbe: probe(HEALTH_PATHS.liveness, 10, 3),
              readinessProbe: probe(HEALTH_PATHS.readiness, 5, 3),
              lifecycle: {
                // Keep serving while the endpoint removal reaches kube-proxy and ingresses; SIGTERM
                // then starts the gateway's own graceful shutdown (SHUTDOWN_GRACE_MS).
                preStop: { exec: { command: ['sleep', String(PRESTOP_DELAY_S)] } },
              },
              volumeMounts: [{ name: 'spool', mountPath: SPOOL_MOUNT }],
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'spool', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(opts.storageClass ? { storageClassName: opts.storageClass } : {}),
            resources: { requests: { storage: opts.spoolSize } },
          },
        },
      ],
    },
  };

  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(APP),
    spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
  // The StatefulSet's governing Service (stable pod DNS names, e.g. for scraping /metrics per pod).
  const headless = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${APP}-headless`),
    spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'http', port: CONTAINER_PORT, targetPort: 'http', protocol: 'TCP' }] },
  };
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(APP),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: APP },
      minReplicas: opts.replicas,
      maxReplicas: opts.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      // Scale down slowly: a replica leaving takes its warm caches and token L1 with it.
      behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
    },
  };
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(APP),
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  };

  return [configMap, ...(opts.withSecret ? [secret] : []), headless, service, statefulSet, hpa, pdb];
}
