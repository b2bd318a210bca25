import { randomBytes } from 'node:crypto';
import { startTestMongo } from '../../test/support/mongo-server';
import { startTestRedis } from '../../test/support/redis-server';

/** MongoDB and Redis for a benchmark: the environment's when set, else local throw-away ones. */
export async function benchStores(): Promise<{ mongoUri: string; redisUrl: string; secretsKey: string; stop(): Promise<void> }> {
  const stops: (() => Promise<void>)[] = [];
  let mongoUri = process.env.MONGODB_URI;
  let redisUrl = process.env.REDIS_URL;
  if (!mongoUri) {
    const m = await startTestMongo();
    mongoUri = m.uri;
    stops.push(() => m.stop());
  }
  if (!redisUrl) {
    const r = await startTestRedis();
    redisUrl = r.url;
    stops.push(() => r.stop());
  }
  return {
    mongoUri,
    redisUrl,
    secretsKey: process.env.SECRETS_KEY ?? randomBytes(32).toString('base64'),
    stop: async () => {
      for (const s of stops) await s();
    },
  };
}
