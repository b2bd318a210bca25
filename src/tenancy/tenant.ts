import type { Rule } from '../portal/rules';

export type MsgFormat = 'json' | 'xml';
export type TokenMode = 'stable' | 'classic';
export type TenantStatus = 'active' | 'disabled';

/** A tenant (one mini program) with its secrets decrypted; lives only in process memory. */
export interface Tenant {
  appid: string;
  name: string;
  secret: string;
  /** Push message token (the "Token" of the message push settings). */
  token: string;
  /** EncodingAESKey, 43 characters. */
  aesKey: string;
  msgFormat: MsgFormat;
  tokenMode: TokenMode;
  /** Tenant override of WECHAT_API_BASE. */
  apiBase?: string;
  status: TenantStatus;
  webhook?: { url: string; secret: string };
  rules: Rule[];
  createdAt: Date;
  updatedAt: Date;
}

/** What a client may see about a tenant. */
export function publicInfo(t: Tenant): { appid: string; name: string; status: TenantStatus } {
  return { appid: t.appid, name: t.name, status: t.status };
}

export const APPID_PATTERN = /^wx[0-9a-f]{16}$/;
