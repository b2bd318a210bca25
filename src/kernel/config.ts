import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';
import { ConfigError } from './errors';
import { parseRate, RATE_FORMAT, type Rate } from './rates';

/**
 * Every setting comes from the environment and is validated once at start-up. Each entry here is
 * also a row of the README's configuration table; keep the two in step.
 */
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `an integer between ${min} and ${max}`).max(max, `an integer between ${min} and ${max}`));

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`,
  );

/**
 * A MongoDB connection string as the driver reads it (its own parser, mongodb-connection-string-url):
 * a replica set names several hosts (`mongodb://a:27017,b:27017,c:27017/wxgate?replicaSet=rs0`),
 * which WHATWG `URL` refuses.
 */
const mongoUri = z.string().refine((v) => {
  try {
    const cs = new ConnectionString(v);
    return cs.hosts.length > 0 && cs.hosts.every((h) => /^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#[\]@,]+)(:\d{1,5})?$/.test(h));
  } catch {
    return false;
  }
}, 'a MongoDB connection string starting with mongodb:// or mongodb+srv:// (several hosts allowed: mongodb://a:27017,b:27017/db?replicaSet=rs0)');

/** A per-tenant request rate (`"50/s"`, `"600/min"`, `"off"`); `null` means no limit. */
const rate = z
  .string()
  .refine((v) => parseRate(v) !== undefined, RATE_FORMAT)
  .transform((v) => parseRate(v) as Rate | null);

const base64Key32 = z.string().refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
  message: 'a 32-byte key, base64-encoded (e.g. `openssl rand -base64 32`)',
});

/** ADMIN_TOKENS: `name:token,...`, each name once, each token at least 24 characters and used once. */
const adminTokens = z
  .string()
  .transform((v, c) => {
    const out: { name: string; token: string }[] = [];
    const problem = 'comma-separated `name:token` pairs (names of a-z, 0-9, _ or -, at most 32; tokens of at least 24 characters; each name and token once)';
    for (const pair of v.split(',').map((p) => p.trim())) {
      const m = /^([a-z0-9_-]{1,32}):(\S{24,})$/.exec(pair);
      if (!m || out.some((o) => o.name === m[1] || o.token === m[2])) {
        c.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      out.push({ name: m[1]!, token: m[2]! });
    }
    return out;
  })
  .optional();

/** SECRETS_KEYS: keys are named by position only, so no part of a key reaches an error message. */
const keyRing = z
  .string()
  .superRefine((v, ctx) => {
    const keys = v.split(',').map((k) => k.trim());
    const bad = keys.flatMap((k, i) => (base64Key32.safeParse(k).success ? [] : [i + 1]));
    if (bad.length) {
      ctx.addIssue({ code: 'custom', message: `comma-separated 32-byte keys, base64-encoded (e.g. \`openssl rand -base64 32\`); key ${bad.join(', ')} is not` });
      return;
    }
    const seen = new Map<string, number>();
    keys.forEach((k, i) => {
      const bytes = Buffer.from(k, 'base64').toString('hex');
      const first = seen.get(bytes);
      if (first !== undefined) ctx.addIssue({ code: 'custom', message: `distinct keys; key ${i + 1} repeats key ${first}` });
      else seen.set(bytes, i + 1);
    });
  })
  .transform((v) => v.split(',').map((k) => k.trim()));

/**
 * `secret: true` marks a value that must not sit in plain configuration: the Kubernetes manifests
 * (`npm run -s k8s`) put it in the Secret, every other variable in the ConfigMap. Connection strings
 * count as secrets because they may carry a password.
 */
export const configSpec = {
  PORT: { schema: int(0, 65535), default: '3000', doc: 'HTTP port of the gateway' },
  HOST: { schema: z.string().min(1), default: '0.0.0.0', doc: 'Address to listen on' },
  MONGODB_URI: { schema: mongoUri, default: 'mongodb://127.0.0.1:27017/wxgate', doc: 'MongoDB connection string (tenants, users)', secret: true },
  REDIS_URL: { schema: url(['redis:', 'rediss:']), default: 'redis://127.0.0.1:6379', doc: 'Redis (tokens, caches, sessions, dedup, streams, pub/sub)', secret: true },
  REDIS_CLUSTER_NODES: {
    schema: z
      .string()
      .regex(/^\s*(?:\[[^\]]+\]|[^:,\s]+):\d{1,5}\s*(?:,\s*(?:\[[^\]]+\]|[^:,\s]+):\d{1,5}\s*)*$/, 'host:port,host:port,... (IPv6 hosts in brackets)')
      .optional(),
    default: undefined,
    doc: 'Optional. Seed nodes of a Redis Cluster (`host:port,host:port,...`); when set, it replaces `REDIS_URL` (see "Redis Cluster")',
  },
  WECHAT_API_BASE: { schema: url(['https:', 'http:']), default: 'https://api.weixin.qq.com', doc: 'WeChat API base URL; a tenant may override it with `apiBase`' },
  WECHAT_TIMEOUT_MS: { schema: int(100, 60000), default: '5000', doc: 'Timeout of one call to WeChat' },
  WECHAT_QUOTA_COOLDOWN_S: { schema: int(1, 86400), default: '300', doc: "After 45009 (daily quota), a tenant's calls to that API fail fast with 429 for this long" },
  WECHAT_RATE_LIMIT_COOLDOWN_S: { schema: int(1, 3600), default: '60', doc: "After 45011 (rate limit), a tenant's calls to that API fail fast with 429 for this long" },
  SECRETS_KEY: {
    schema: base64Key32.optional(),
    default: undefined,
    secret: true,
    doc: '**Required** unless `SECRETS_KEYS` is set (setting both is refused). Secret. 32-byte key, base64, that encrypts tenant secrets and session keys at rest (AES-256-GCM)',
  },
  SECRETS_KEYS: {
    schema: keyRing.optional(),
    default: undefined,
    secret: true,
    doc: 'Secret. Instead of `SECRETS_KEY`: comma-separated 32-byte keys, base64; the first seals, every one opens (see "Rotating the secrets key"). Duplicate or malformed keys are refused at start-up',
  },
  ADMIN_TOKEN: { schema: z.string().min(16, 'at least 16 characters'), default: undefined, doc: '**Required.** Bearer token for the `/admin` API', secret: true },
  ADMIN_TOKENS: {
    schema: adminTokens,
    default: undefined,
    secret: true,
    doc: 'Optional. Per-operator bearer tokens for the `/admin` API, `name:token` pairs separated by commas (e.g. `alice:<token>,bob:<token>`; names `[a-z0-9_-]`, tokens at least 24 characters). The audit log names the operator (`admin:alice`); `ADMIN_TOKEN` stays valid as `admin:default`',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'one of fatal, error, warn, info, debug, trace, silent'),
    default: 'info',
    doc: 'Log level: fatal, error, warn, info, debug, trace or silent',
  },
  TENANT_CACHE_TTL_S: { schema: int(1, 86400), default: '60', doc: 'How long an instance keeps a tenant in memory; changes are also pushed over Redis pub/sub' },
  TENANT_CACHE_MAX: {
    schema: int(10, 10_000_000),
    default: '10000',
    doc: 'Most decrypted tenants an instance keeps in memory (least recently used dropped first); also bounds its per-tenant token and renewal state and the tenants with their own metrics `appid` label (the rest share `_other`), so memory follows this, not the tenant count',
  },
  SESSION_TTL_S: { schema: int(60, 30 * 86400), default: '604800', doc: 'Lifetime of a user session token issued by `/auth/login`' },
  SESSION_MAX_PER_USER: { schema: int(1, 1000), default: '10', doc: "Most live sessions one user may hold; a new login ends the user's oldest beyond it" },
  PORTAL_MAX_BODY_BYTES: { schema: int(1024, 10 * 1024 * 1024), default: '262144', doc: 'Largest accepted push body (413 above)' },
  PORTAL_TIMESTAMP_WINDOW_S: { schema: int(10, 86400), default: '300', doc: 'Pushes whose timestamp is further than this from now are refused' },
  PORTAL_BODY_TIMEOUT_MS: { schema: int(100, 120000), default: '10000', doc: 'Deadline for reading a push body once its signed query was checked (408 `BODY_TIMEOUT` after it)' },
  PORTAL_MAX_PENDING_BODIES: {
    schema: int(1, 100000),
    default: '256',
    doc: 'Push bodies read at once per instance; beyond it pushes get 503 `PORTAL_BUSY` with `Retry-After` (WeChat retries)',
  },
  SPOOL_DIR: { schema: z.string().min(1), default: 'spool', doc: 'Directory of the local push spool (pushes accepted while Redis is unreachable); one per instance, on a persistent volume' },
  SPOOL_MAX_BYTES: { schema: int(4096, 1073741824), default: '67108864', doc: 'Largest size of the push spool; beyond it pushes get 503 `QUEUE_UNAVAILABLE`' },
  WEBHOOK_MAX_ATTEMPTS: { schema: int(1, 100), default: '8', doc: 'Delivery attempts to a tenant webhook before a message is dead-lettered' },
  WEBHOOK_RETRY_BASE_MS: { schema: int(10, 3600000), default: '1000', doc: 'First retry delay of a failed webhook delivery; doubles per attempt' },
  WEBHOOK_RETRY_MAX_MS: { schema: int(10, 86400000), default: '300000', doc: 'Longest delay between two delivery attempts' },
  WEBHOOK_TIMEOUT_MS: { schema: int(100, 60000), default: '5000', doc: 'Timeout of one webhook delivery' },
  WEBHOOK_CONCURRENCY: {
    schema: int(0, 1024),
    default: '64',
    doc: 'Webhook deliveries one instance runs at once, all tenants together (they mostly wait on the network); 0 makes an ingress-only instance that queues pushes but delivers none (at least one instance of the fleet must deliver)',
  },
  WEBHOOK_TENANT_CONCURRENCY: {
    schema: int(1, 16),
    default: '4',
    doc: "Deliveries one instance runs at once for one tenant (of its `WEBHOOK_CONCURRENCY` slots), so a slow webhook cannot hold up other tenants' deliveries",
  },
  DELIVERY_SHARDS: {
    schema: int(1, 1024),
    default: '16',
    doc: 'Webhook delivery shard streams; a tenant hashes to one. Every instance and the CLI must use the same value: change it only with the delivery queues empty',
  },
  WEBHOOK_DEAD_RETENTION_DAYS: { schema: int(1, 365), default: '7', doc: 'How long dead letters are kept (at most 10000 per tenant, the oldest dropped first)' },
  SHUTDOWN_GRACE_MS: { schema: int(0, 120000), default: '10000', doc: 'How long shutdown waits for in-flight requests' },
  HTTP_HEADERS_TIMEOUT_MS: { schema: int(1000, 120000), default: '10000', doc: 'Time a client has to send its request headers, on every route (the connection is closed after it)' },
  HTTP_REQUEST_TIMEOUT_MS: { schema: int(1000, 600000), default: '120000', doc: 'Time a client has to send a whole request, on every route (media uploads included)' },
  ALLOW_PRIVATE_URLS: {
    schema: z.enum(['true', 'false'], 'true or false').transform((v) => v === 'true'),
    default: 'false',
    doc: 'Allow tenant `apiBase` and webhook URLs with plain http or on loopback, private and link-local addresses (development and tests only)',
  },
  PUBLIC_BASE_URL: {
    schema: url(['https:', 'http:']).optional(),
    default: undefined,
    doc: 'Optional. The address WeChat Pay reaches this gateway at (e.g. `https://gw.example.com`): payment and refund notifications go to `<PUBLIC_BASE_URL>/<appid>/pay/notify` and `/refund-notify`. Without it, pay endpoints answer 503 `PAY_NOT_CONFIGURED`',
  },
  PAY_TIMEOUT_MS: { schema: int(100, 60000), default: '10000', doc: 'Timeout of one call to WeChat Pay' },
  RATE_LIMIT_LOGIN: {
    schema: rate,
    default: '50/s',
    doc: "Default per-tenant rate of `POST /:appid/auth/login`, shared by every instance (e.g. `20/s`, `600/min`, `10000/h`, or `off`); a tenant file's `limits.login` overrides it. Over it: 429 `RATE_LIMITED` with `Retry-After`",
  },
  RATE_LIMIT_USERS: {
    schema: rate,
    default: '200/s',
    doc: 'Default per-tenant rate of the user endpoints (`/auth/logout`, `/users/me...`); overridden by `limits.users`',
  },
  RATE_LIMIT_MINIAPP: {
    schema: rate,
    default: '200/s',
    doc: 'Default per-tenant rate of the mini-program APIs (wxacode, messages, text check, media, links); overridden by `limits.miniapp`',
  },
  RATE_LIMIT_PLATFORM_AUTHORIZE: {
    schema: rate,
    default: '30/min',
    doc: 'Per-platform rate of the public `GET /platform/:componentAppid/authorize` page (each view asks WeChat for a pre-auth code), shared by every instance; over it: 429 `RATE_LIMITED` with `Retry-After`',
  },
  RATE_LIMIT_PASSTHROUGH: {
    schema: rate,
    default: '200/s',
    doc: 'Default per-tenant rate of `/:appid/wxapi/*`; overridden by `limits.passthrough`',
  },
  METRICS_TOKEN: {
    schema: z.string().min(16, 'at least 16 characters').optional(),
    default: undefined,
    doc: 'Optional. When set, `/metrics` requires it as `Authorization: Bearer` (401/403 otherwise); unset, `/metrics` is open',
    secret: true,
  },
} as const;

type Spec = typeof configSpec;
export type Config = { [K in keyof Spec]: z.output<Spec[K]['schema']> };

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigSubset(env, Object.keys(configSpec) as (keyof Spec)[]) as Config;
}

/** Validates only the named variables (the CLI needs the data stores, not ADMIN_TOKEN or PORT). */
export function loadConfigSubset<K extends keyof Spec>(env: NodeJS.ProcessEnv, names: readonly K[]): Pick<Config, K> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const entry = configSpec[name];
    const raw = env[name] === undefined || env[name] === '' ? entry.default : env[name];
    const schema = entry.schema as z.ZodType<unknown, string | undefined>;
    if (raw === undefined) {
      // A variable whose rule accepts no value at all is optional; every other one is required.
      if (!schema.safeParse(undefined).success) throw new ConfigError(name, `is required: ${entry.doc.replace(/\*\*Required\.\*\* /, '')}`);
      out[name] = undefined;
      continue;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(name, `expected ${parsed.error.issues[0]?.message ?? 'a valid value'}, got ${JSON.stringify(mask(name, raw))}`);
    }
    out[name] = parsed.data;
  }
  if (names.some((n) => n === 'SECRETS_KEY' || n === 'SECRETS_KEYS')) checkOneKeySetting(env);
  return out as Pick<Config, K>;
}

/** Exactly one of SECRETS_KEY and SECRETS_KEYS: two settings could disagree on which key seals. */
function checkOneKeySetting(env: NodeJS.ProcessEnv): void {
  const one = env.SECRETS_KEY !== undefined && env.SECRETS_KEY !== '';
  const ring = env.SECRETS_KEYS !== undefined && env.SECRETS_KEYS !== '';
  if (one && ring) throw new ConfigError('SECRETS_KEYS', 'and SECRETS_KEY are both set; set only one: SECRETS_KEYS (the first key seals, all open) or SECRETS_KEY (one key)');
  if (!one && !ring) throw new ConfigError('SECRETS_KEY', 'is required (or SECRETS_KEYS): 32-byte key, base64, that encrypts tenant secrets and session keys at rest (AES-256-GCM)');
}

/** The key ring to seal and open with: SECRETS_KEYS, or SECRETS_KEY as a one-key ring (loadConfig made sure one is set). */
export function secretKeys(cfg: Partial<Pick<Config, 'SECRETS_KEY' | 'SECRETS_KEYS'>>): string[] {
  if (cfg.SECRETS_KEYS?.length) return cfg.SECRETS_KEYS;
  if (cfg.SECRETS_KEY) return [cfg.SECRETS_KEY];
  throw new ConfigError('SECRETS_KEY', 'is required (or SECRETS_KEYS)');
}

function mask(name: string, value: string): string {
  const entry = (configSpec as Record<string, object>)[name];
  return /KEY|TOKEN|SECRET/.test(name) || (entry !== undefined && 'secret' in entry) ? `<${value.length} chars>` : value;
}
