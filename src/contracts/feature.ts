import type Router from '@koa/router';
import type { GatewayState } from '../http/context';
import type { FastRoute } from '../tenancy/tenant-middleware';
import type { TenantSection } from '../tenancy/tenant-section';

/** A feature once created: its routes under /:appid, and what it must start and stop with the process. */
export interface Feature {
  routes?: Router<GatewayState>[];
  /** Routes outside /:appid (e.g. /platform/...): matched before tenant resolution; their first path segment is reserved. */
  systemRoutes?: Router<GatewayState>[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /**
   * Hot tenant routes (also in `routes`, which stay the description of record) that the app answers
   * without matching every router: see tenantFastPath.
   */
  fastRoutes?: FastRoute[];
}

/**
 * How a feature plugs into the gateway: a name, the tenant-file section it adds (if any), and a
 * factory that receives only what the feature declares it needs (`N`, a subset of the services the
 * composition root builds). The composition root lists the modules; it checks at compile time that
 * it can give each one what it asks for.
 */
export interface FeatureModule<N> {
  readonly name: string;
  readonly sections?: readonly TenantSection[];
  readonly create: (needs: N) => Feature | Promise<Feature>;
}
