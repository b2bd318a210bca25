import type { FeatureModule } from '../contracts/feature';
import { tenantInfoRoutes } from './tenant-info-routes';

/** GET /:appid: what a client may know about a tenant. */
export const tenantInfoFeature: FeatureModule<object> = {
  name: 'tenant-info',
  create: () => ({ routes: [tenantInfoRoutes()] }),
};
