/**
 * A tenant file's content as the dev tools write it (README "Tenant file"): the gateway validates it
 * like any file before storing it.
 */
export interface TenantFileContent {
  appid: string;
  name: string;
  secret: string;
  token: string;
  aesKey: string;
  msgFormat: 'json' | 'xml';
  tokenMode: 'stable' | 'classic';
  status: 'active' | 'disabled';
  apiBase?: string;
  webhook?: { url: string; secret: string };
  pay?: { mchid: string };
  pushEncryption?: 'required' | 'optional';
  limits?: { login?: string; users?: string; miniapp?: string; passthrough?: string };
  rules: unknown[];
}

/**
 * The tenant `npm run sandbox` creates: tenants/example.json's appid with fixed, public demo
 * credentials that only the local sandbox accepts.
 */
export const DEMO_APPID = 'wx0123456789abcdef';

export function demoTenant(apiBase: string): TenantFileContent {
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
