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

/** A per-tenant request rate (`"50/s"`, `"600/min"`, `"off"`); `null` means no limit. */
const rate = z
  .string()
  .refine((v) => parseRate(v) !== undefined, RATE_FORMAT)
  .transform((v) => parseRate(v) as Rate | null);

const base64Key32 = z.string().refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
  message: 'a 32-byte key, base64-encoded (e.g. `openssl rand -base64 32`)',
});

export const configSpec = {
  PORT: { schema: int(0, 65535), default: '3000', doc: 'HTTP port of the gateway' },
  HOST: { schema: z.string().min(1), default: '0.0.0.0', doc: 'Address to listen on' },
  MONGODB_URI: { schema: url(['mongodb:', 'mongodb+srv:']), default: 'mongodb://127.0.0.1:27017/wxgate', doc: 'MongoDB connection string (tenants, users)' },
  REDIS_URL: { schema: url(['redis:', 'rediss:']), default: 'redis://127.0.0.1:6379', doc: 'Redis (tokens, caches, sessions, dedup, streams, pub/sub)' },
  WECHAT_API_BASE: { schema: url(['https:', 'http:']), default: 'https://api.weixin.qq.com', doc: 'WeChat API base URL; a tenant may override it with `apiBase`' },
  WECHAT_TIMEOUT_MS: { schema: int(100, 60000), default: '5000', doc: 'Timeout of one call to WeChat' },
  WECHAT_QUOTA_COOLDOWN_S: { schema: int(1, 86400), default: '300', doc: "After 45009 (daily quota), a tenant's calls to that API fail fast with 429 for this long" },
  WECHAT_RATE_LIMIT_COOLDOWN_S: { schema: int(1, 3600), default: '60', doc: "After 45011 (rate limit), a tenant's calls to that API fail fast with 429 for this long" },
  SECRETS_KEY: { schema: base64Key32, default: undefined, doc: '**Required.** 32-byte key, base64, that encrypts tenant secrets and session keys at rest (AES-256-GCM)' },
  ADMIN_TOKEN: { schema: z.string().min(16, 'at least 16 characters'), default: undefined, doc: '**Required.** Bearer token for the `/admin` API' },
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
  WEBHOOK_TENANT_CONCURRENCY: {
    schema: int(1, 16),
    default: '4',
    doc: "Deliveries one instance runs at once for one tenant (of its 16 slots), so a slow webhook cannot hold up other tenants' deliveries",
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
  RATE_LIMIT_PASSTHROUGH: {
    schema: rate,
    default: '200/s',
    doc: 'Default per-tenant rate of `/:appid/wxapi/*`; overridden by `limits.passthrough`',
  },
  METRICS_TOKEN: {
    schema: z.string().min(16, 'at least 16 characters').optional(),
    default: undefined,
    doc: 'Optional. When set, `/metrics` requires it as `Authorization: Bearer` (401/403 otherwise); unset, `/metrics` is open',
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
  return out as Pick<Config, K>;
}

function mask(name: string, value: string): string {
  return /KEY|TOKEN|SECRET/.test(name) ? `<${value.length} chars>` : value;
}
