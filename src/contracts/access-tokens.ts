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
}
