import type { Feature, FeatureDeps } from '../contracts/feature';
import { SessionStore } from '../auth/session-store';
import { UserRepository } from './user-repository';
import { usersRoutes } from './users-routes';

/** Login, sessions, profile and phone. */
export async function usersFeature(deps: FeatureDeps): Promise<Feature> {
  const users = new UserRepository(deps.mongo, deps.box);
  await users.ensureIndexes();
  const sessions = new SessionStore(deps.redis, deps.config.SESSION_TTL_S);
  return { routes: [usersRoutes({ clock: deps.clock, clients: deps.clients, users, sessions })] };
}
