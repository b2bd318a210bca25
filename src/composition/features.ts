import type { FeatureModule } from '../contracts/feature';
import { TenantSections, type ParseOptions } from '../tenancy/tenant-sections';
import type { TenantDefinition } from '../tenancy/tenant';
import { tenantInfoFeature } from '../tenant-info/tenant-info-feature';
import { tokenServiceFeature } from '../token-service/token-service-feature';
import { passthroughFeature } from '../passthrough/passthrough-feature';
import { portalFeature } from '../portal/portal-feature';
import { deliveryFeature } from '../delivery/delivery-feature';
import { usersFeature } from '../users/users-feature';
import { miniappFeature } from '../miniapp/miniapp-feature';
import { payFeature } from '../pay/pay-feature';
import { platformFeature } from '../platform/platform-feature';
import { limitsFeature } from '../limits/limits-feature';
import type { Services } from './services';

/**
 * Every feature of the gateway, one line each. Adding a feature is a new folder exporting a
 * FeatureModule, plus its line here: its routes, lifecycle and tenant-file section follow from it.
 * The type says the composition root can give each module what it declares it needs.
 */
export const FEATURES: readonly FeatureModule<Services>[] = [
  tenantInfoFeature,
  tokenServiceFeature,
  passthroughFeature,
  portalFeature,
  deliveryFeature,
  usersFeature,
  miniappFeature,
  payFeature,
  platformFeature,
  limitsFeature,
];

/** The tenant record as the features above make it up (the gateway and the tenants CLI share it). */
export const tenantSections = new TenantSections(FEATURES.flatMap((f) => f.sections ?? []));

/** Validates one tenant file's content against the core and every feature's section. */
export function parseTenantDefinition(input: unknown, source: string, opts: ParseOptions = {}): TenantDefinition {
  return tenantSections.parse(input, source, opts);
}
