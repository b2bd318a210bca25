import { AppError } from '../kernel/errors';
import type { Tenant } from '../tenancy/tenant';
import type { AccessTokenSource } from './access-token-source';
import type { TokenManager } from './token-manager';
import type { TokenRecord } from './token-record';

/** Makes the token source of a tenant whose token mode it serves. */
export type TenantSourceFactory = (tenant: Tenant) => AccessTokenSource;

/**
 * A tenant's access token: picks the tenant's source by its token mode ("stable", "classic", and
 * whatever a feature registers) and asks the fleet token manager. Sources are made once per tenant
 * object (the resolver makes a new object when a tenant changes), so the hot path hashes nothing.
 */
export class TenantTokens {
  private readonly sources = new WeakMap<Tenant, AccessTokenSource>();

  constructor(
    private readonly manager: TokenManager,
    private readonly factories: Readonly<Record<string, TenantSourceFactory>>,
  ) {}

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
