import type { Tenant } from './tenant';

/** Shows that a secret is set and which one (last 4 characters) without revealing it. */
export function maskSecret(s: string): string {
  if (s.length <= 8) return '****';
  return `****${s.slice(-4)} (${s.length} chars)`;
}

export function maskTenant(t: Tenant): Record<string, unknown> {
  return {
    appid: t.appid,
    name: t.name,
    status: t.status,
    msgFormat: t.msgFormat,
    tokenMode: t.tokenMode,
    apiBase: t.apiBase ?? null,
    secret: maskSecret(t.secret),
    token: maskSecret(t.token),
    aesKey: maskSecret(t.aesKey),
    webhook: t.webhook ? { url: t.webhook.url, secret: maskSecret(t.webhook.secret) } : null,
    rules: t.rules.length,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}
