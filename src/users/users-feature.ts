import type { Connection } from 'mongoose';
import type { FeatureModule } from '../contracts/feature';
import type { Clock } from '../kernel/clock';
import type { SecretBox } from '../tenancy/secret-box';
import type { SessionStore } from '../auth/session-store';
import type { WeChatClients } from '../wechat/wechat-clients';
import type { RateLimits } from '../limits/rate-limits';
import { UserRepository } from './user-repository';
import { usersRoutes } from './users-routes';

export interface UsersNeeds {
  mongo: Connection;
  box: SecretBox;
  clock: Clock;
  clients: WeChatClients;
  sessions: SessionStore;
  limits: RateLimits;
}

/** Login, sessions, profile and phone. */
export const usersFeature: FeatureModule<UsersNeeds> = {
  name: 'users',
  create: async (n) => {
    const users = new UserRepository(n.mongo, n.box);
    await users.ensureIndexes();
    return { routes: [usersRoutes({ clock: n.clock, clients: n.clients, users, sessions: n.sessions, limits: n.limits })] };
  },
};
