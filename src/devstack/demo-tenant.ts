import type { TenantDefinition } from '../tenancy/tenant-file';

/**
 * The tenant `npm run sandbox` creates: tenants/example.json's appid with fixed, public demo
 * credentials that only the local sandbox accepts.
 */
export const DEMO_APPID = 'wx0123456789abcdef';

export function demoTenant(apiBase: string): TenantDefinition {
  return {
    appid: DEMO_APPID,
    name: 'Demo shop',
    secret: '0123456789abcdef0123456789abcdef',
    token: 'demopushtoken',
    aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    msgFormat: 'json',
    tokenMode: 'stable',
    apiBase,
    status: 'active',
    rules: [],
  };
}
