/** Where the tenant's access token comes from: its AppSecret (stable or classic API), or a third-party platform's authorization. */
export type TokenMode = 'stable' | 'classic' | 'authorizer';
export type TenantStatus = 'active' | 'disabled';
/**
 * How the gateway authenticates as the mini program: with its own AppSecret, or as an authorizer
 * of a third-party platform (the mini program authorized the platform; there is no AppSecret).
 */
export type CredentialKind = 'appsecret' | 'authorizer';

/** What every tenant has, whatever features it uses. */
export interface CoreTenant {
  appid: string;
  name: string;
  status: TenantStatus;
  credential: CredentialKind;
  /** AppSecret (credential "appsecret" only). */
  secret?: string;
  /** The component appid of the third-party platform the mini program authorized (credential "authorizer" only). */
  component?: string;
  /** Tenant override of WECHAT_API_BASE. */
  apiBase?: string;
  tokenMode: TokenMode;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A tenant (one mini program) with its secrets decrypted; lives only in process memory. Beside the
 * core fields it carries the fields of every registered section (portal, webhook, ...) at the top
 * level, exactly as in the tenant file; a feature reads its own through its section's `of`.
 */
export type Tenant = CoreTenant & { readonly [sectionField: string]: unknown };

/** A tenant as defined in a file (no timestamps yet). */
export type TenantDefinition = Omit<CoreTenant, 'createdAt' | 'updatedAt'> & { readonly [sectionField: string]: unknown };

/** What a client may see about a tenant. */
export function publicInfo(t: Tenant): { appid: string; name: string; status: TenantStatus } {
  return { appid: t.appid, name: t.name, status: t.status };
}

export const APPID_PATTERN = /^wx[0-9a-f]{16}$/;
