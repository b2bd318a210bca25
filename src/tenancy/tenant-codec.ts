import type { SecretBox } from './secret-box';
import type { Tenant } from './tenant';
import type { TenantDoc } from './tenant-model';
import type { Rule } from '../portal/rules';

/** Encrypted <-> decrypted tenant. The field name and appid are bound into each ciphertext. */
export function sealTenant(box: SecretBox, t: Omit<Tenant, 'createdAt' | 'updatedAt'>): Omit<TenantDoc, 'createdAt' | 'updatedAt'> {
  const ctx = (field: string) => `tenant:${t.appid}:${field}`;
  return {
    appid: t.appid,
    name: t.name,
    secret: box.seal(t.secret, ctx('secret')),
    token: box.seal(t.token, ctx('token')),
    aesKey: box.seal(t.aesKey, ctx('aesKey')),
    msgFormat: t.msgFormat,
    tokenMode: t.tokenMode,
    ...(t.apiBase ? { apiBase: t.apiBase } : {}),
    status: t.status,
    ...(t.webhook ? { webhook: { url: t.webhook.url, secret: box.seal(t.webhook.secret, ctx('webhook.secret')) } } : {}),
    rules: t.rules,
  };
}

export function openTenant(box: SecretBox, d: TenantDoc): Tenant {
  const ctx = (field: string) => `tenant:${d.appid}:${field}`;
  return {
    appid: d.appid,
    name: d.name,
    secret: box.open(d.secret, ctx('secret')),
    token: box.open(d.token, ctx('token')),
    aesKey: box.open(d.aesKey, ctx('aesKey')),
    msgFormat: d.msgFormat,
    tokenMode: d.tokenMode,
    ...(d.apiBase ? { apiBase: d.apiBase } : {}),
    status: d.status,
    ...(d.webhook?.url ? { webhook: { url: d.webhook.url, secret: box.open(d.webhook.secret, ctx('webhook.secret')) } } : {}),
    rules: (d.rules ?? []) as Rule[],
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
  };
}
