import type { Tenant } from '../tenancy/tenant';

/** The part of a token that a caller of WeChat needs. */
export interface AccessToken {
  accessToken: string;
}

/**
 * How the WeChat client obtains a tenant's access token. The client does not know where tokens come
 * from (stable or classic AppSecret tokens, a platform's authorizer tokens, ...): the composition
 * root hands it an implementation.
 */
export interface AccessTokens {
  get(tenant: Tenant): Promise<AccessToken>;
  /** Upstream refused `failedToken`: replace it (once for the fleet) and return the token to retry with. */
  invalidate(tenant: Tenant, failedToken: string): Promise<AccessToken>;
  /** How the tenant exchanges a wx.login code: the API and its credential fields (beside js_code and grant_type). */
  loginCredentials(tenant: Tenant): Promise<LoginCredentials>;
}

/** The code-exchange API of a credential kind and what it sends besides the code: AppSecret tenants their secret, authorizers the component token. */
export interface LoginCredentials {
  api: string;
  query: Record<string, string>;
}

/** The code exchange of a mini program holding its own AppSecret. */
export const CODE2SESSION_API = '/sns/jscode2session';
