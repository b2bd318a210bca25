import type { GatewayContext } from '../http/context';
import type { Tenant } from './tenant';

declare module '../http/context' {
  interface GatewayState {
    /** Set by the tenant resolver for routes under /:appid. */
    tenant?: Tenant;
  }
}

/** The resolved tenant; routes under /:appid can rely on the resolver having run. */
export function tenantOf(ctx: GatewayContext): Tenant {
  const t = ctx.state.tenant;
  if (!t) throw new Error('tenant resolver did not run for this route');
  return t;
}
