import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { ServiceKeys } from '../auth/service-keys';
import type { TenantTokens } from '../token/tenant-tokens';
import { tokenRoutes } from './token-routes';

export interface TokenServiceNeeds {
  tokens: TenantTokens;
  keys: ServiceKeys;
  clock: Clock;
}

/** The central token endpoint: a tenant's other systems take the fleet's token from here. */
export const tokenServiceFeature: FeatureModule<TokenServiceNeeds> = {
  name: 'token-service',
  create: (n) => ({ routes: [tokenRoutes(n.tokens, n.keys, n.clock)] }),
};
