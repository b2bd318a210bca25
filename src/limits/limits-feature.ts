import type { FeatureModule } from '../contracts/feature';
import { limitsSection } from './limits-section';

/**
 * Adds the tenant file's `limits` section. The limits themselves are a service (RateLimits, built by
 * the composition root) that the users, miniapp and passthrough features put on their routes.
 */
export const limitsFeature: FeatureModule<object> = {
  name: 'limits',
  sections: [limitsSection],
  create: () => ({}),
};
