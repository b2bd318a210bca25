import { ManualClock } from '../../src/kernel/clock';
import { createLogger } from '../../src/kernel/log';
import { createRedis, connectRedis, type Redis } from '../../src/infra/redis';
import { InvalidationBus } from '../../src/cache/invalidation-bus';
import { WeChatHttp } from '../../src/transport/wechat-http';
import { Cooldowns } from '../../src/transport/cooldowns';
import { WeChatClients } from '../../src/wechat/wechat-clients';
import { appSecretSources } from '../../src/token/sources/app-secret-token';
import { TenantTokens } from '../../src/token/tenant-tokens';
import { TokenManager } from '../../src/token/token-manager';
import { SecretBox } from '../../src/tenancy/secret-box';
import { TEST_SECRETS_KEY } from './gateway-process';

/**
 * One gateway instance's token machinery, in process, on a shared fake clock: the refresher can be
 * driven through simulated days against the sandbox while Redis and HTTP stay real.
 */
export interface TokenInstance {
  redis: Redis;
  subscriber: Redis;
  bus: InvalidationBus;
  tokens: TenantTokens;
  clients: WeChatClients;
  close(): Promise<void>;
}

export async function tokenInstance(clock: ManualClock, redisUrl = process.env.REDIS_URL ?? ''): Promise<TokenInstance> {
  const log = createLogger('silent');
  const redis = createRedis(redisUrl, log);
  const subscriber = createRedis(redisUrl, log, 'sub');
  await Promise.all([connectRedis(redis), connectRedis(subscriber)]);
  const bus = new InvalidationBus(redis, subscriber, log);
  await bus.start();
  const http = new WeChatHttp(5000, { allowPrivateAddresses: true });
  const cooldowns = new Cooldowns(clock, bus, 300, 60);
  const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const manager = new TokenManager({ redis, box: new SecretBox(TEST_SECRETS_KEY), bus, clock, log, sleep: realSleep, pollMs: 5 });
  const tokens = new TenantTokens(manager, appSecretSources({ http, cooldowns, defaultApiBase: 'http://127.0.0.1:9', sleep: realSleep }));
  const clients = new WeChatClients({ http, tokens, cooldowns, defaultApiBase: 'http://127.0.0.1:9', sleep: realSleep });
  return {
    redis,
    subscriber,
    bus,
    tokens,
    clients,
    async close() {
      manager.close();
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}
