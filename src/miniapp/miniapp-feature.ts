import type { Feature, FeatureDeps } from '../contracts/feature';
import { SessionStore } from '../auth/session-store';
import { miniappRoutes } from './miniapp-routes';

/** Mini-program API endpoints: wxacode, messages, content security, media, links. */
export async function miniappFeature(deps: FeatureDeps): Promise<Feature> {
  // Sessions are stateless to read (Redis holds them), so this feature keeps its own handle.
  const sessions = new SessionStore(deps.redis, deps.config.SESSION_TTL_S);
  return { routes: [miniappRoutes({ clients: deps.clients, keys: deps.keys, sessions })] };
}
