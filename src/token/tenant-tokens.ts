import { AppError } from '../kernel/errors';
import type { Tenant } from '../tenancy/tenant';
import type { AccessTokenSource } from './access-token-source';
import type { TokenManager } from './token-manager';
import type { TokenRecord } from './token-record';
import { CODE2SESSION_API, type LoginCredentials } from '../contracts/access-tokens';

/** Makes the token source of a tenant whose token mode it serves. */
export type TenantSourceFactory = (tenant: Tenant) => AccessTokenSource;
/** How tenants of one credential kind exchange wx.login codes. */
export type LoginCredentialsFactory = (tenant: Tenant) => Promise<LoginCredentials>;

/** An AppSecret tenant logs users in with its own appid and secret. */
const appSecretLogin: LoginCredentialsFactory = async (t) => {
  if (t.secret === undefined) throw new AppError(500, 'INTERNAL', `tenant ${t.appid} has credential "appsecret" but no secret`);
  return { api: CODE2SESSION_API, query: { appid: t.appid, secret: t.secret } };
};

/**
 * A tenant's access token: picks the tenant's source by its token mode ("stable", "classic", and
 * whatever a feature registers) and asks the fleet token manager. Sources are made once per tenant
 * object (the resolver makes a new object when a tenant changes), so the hot path hashes nothing.
 */
export class TenantTokens {
  private readonly sources = new WeakMap<Tenant, AccessTokenSource>();
  private readonly factories: Record<string, TenantSourceFactory>;
  private readonly logins: Record<string, LoginCredentialsFactory> = { appsecret: appSecretLogin };

  constructor(
    private readonly manager: TokenManager,
    factories: Readonly<Record<string, TenantSourceFactory>>,
  ) {
    this.factories = { ...factories };
  }

  /**
   * A feature adds a credential kind: the token source of its token mode, and how its tenants
   * exchange login codes (e.g. third-party platform authorizers).
   */
  register(tokenMode: string, credential: string, source: TenantSourceFactory, login: LoginCredentialsFactory): void {
    if (this.factories[tokenMode] || this.logins[credential]) throw new Error(`token mode ${tokenMode} or credential ${credential} is registered already`);
    this.factories[tokenMode] = source;
    this.logins[credential] = login;
  }

  loginCredentials(tenant: Tenant): Promise<LoginCredentials> {
    const make = this.logins[tenant.credential];
    if (!make) throw new AppError(500, 'INTERNAL', `no login for credential ${tenant.credential}`);
    return make(tenant);
  }

  sourceFor(tenant: Tenant): AccessTokenSource {
    let s = this.sources.get(tenant);
    if (!s) {
      const make = this.factories[tenant.tokenMode];
      if (!make) throw new AppError(500, 'INTERNAL', `no token source for token mode ${tenant.tokenMode}`);
      s = make(tenant);
      this.sources.set(tenant, s);
    }
    return s;
  }

  get(tenant: Tenant): Promise<TokenRecord> {
    return this.manager.get(this.sourceFor(tenant));
  }

  invalidate(tenant: Tenant, failedToken: string): Promise<TokenRecord> {
    return this.manager.invalidate(this.sourceFor(tenant), failedToken);
  }

  /** A refusal reported by the tenant's other systems: rate-limited fleet-wide (see TokenManager). */
  invalidateReported(tenant: Tenant, failedToken: string): Promise<TokenRecord> {
    return this.manager.invalidateReported(this.sourceFor(tenant), failedToken);
  }

  /** Renews the due tokens of these tenants (the periodic scan passes the tenants this instance holds). */
  refreshDue(tenants: Iterable<Tenant>): void {
    const sources: AccessTokenSource[] = [];
    for (const t of tenants) sources.push(this.sourceFor(t));
    this.manager.refreshDue(sources);
  }
}
