import type { ParameterizedContext, Next } from 'koa';
import type { Logger } from '../kernel/log';
import type { Tenant } from '../tenancy/tenant';

/** What middleware puts on ctx.state as a request goes through the gateway. */
export interface GatewayState {
  reqId: string;
  log: Logger;
  /** Set by the tenant resolver for routes under /:appid. */
  tenant?: Tenant;
  /** Set by auth middleware: who is calling. */
  principal?: { kind: 'service'; keyId: string } | { kind: 'user'; openid: string; sessionId: string };
}

export type GatewayContext = ParameterizedContext<GatewayState>;
export type GatewayMiddleware = (ctx: GatewayContext, next: Next) => Promise<void>;

/** The resolved tenant; routes under /:appid can rely on the resolver having run. */
export function tenantOf(ctx: GatewayContext): Tenant {
  const t = ctx.state.tenant;
  if (!t) throw new Error('tenant resolver did not run for this route');
  return t;
}
