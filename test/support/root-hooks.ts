import { startTestMongo, type TestMongo } from '../../src/devstack/mongo-server';
import { startTestRedis, type TestRedis } from '../../src/devstack/redis-server';

/**
 * Mocha root hooks: give every test a MongoDB and a Redis unless the
 * environment already names them (MONGODB_URI / REDIS_URL), and tear down
 * only what we started.
 */

let mongo: TestMongo | undefined;
let redis: TestRedis | undefined;

async function stopStarted(): Promise<void> {
  const stopping: Promise<void>[] = [];
  if (mongo) stopping.push(mongo.stop());
  if (redis) stopping.push(redis.stop());
  mongo = undefined;
  redis = undefined;
  await Promise.all(stopping);
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    // The first run on a machine may have Maven download mongo-java-server.
    this.timeout(180_000);
    const startMongo = process.env.MONGODB_URI
      ? undefined
      : startTestMongo().then((started) => {
          mongo = started;
          process.env.MONGODB_URI = started.uri;
        });
    const startRedis = process.env.REDIS_URL
      ? undefined
      : startTestRedis().then((started) => {
          redis = started;
          process.env.REDIS_URL = started.url;
        });
    // Start both at once (the JVM is the slow one); if either fails, stop the other.
    const results = await Promise.allSettled([startMongo, startRedis]);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await stopStarted();
      throw failure.reason;
    }
  },

  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    const ownedMongoUri = mongo?.uri;
    const ownedRedisUrl = redis?.url;
    await stopStarted();
    if (ownedMongoUri !== undefined && process.env.MONGODB_URI === ownedMongoUri) delete process.env.MONGODB_URI;
    if (ownedRedisUrl !== undefined && process.env.REDIS_URL === ownedRedisUrl) delete process.env.REDIS_URL;
  },
} satisfies Mocha.RootHookObject;

function required(name: 'MONGODB_URI' | 'REDIS_URL'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run tests through mocha with dist/test/support/root-hooks.js required`);
  }
  return value;
}

/** The MongoDB every test shares (read it inside hooks/tests, not at import time). */
export function testMongoUri(): string {
  return required('MONGODB_URI');
}

/** The Redis every test shares (read it inside hooks/tests, not at import time). */
export function testRedisUrl(): string {
  return required('REDIS_URL');
}

/**
 * The Redis the root hook started, for tests that stop and restart it; undefined
 * when REDIS_URL came from the environment (then outage tests should skip).
 */
export function ownedTestRedis(): TestRedis | undefined {
  return redis;
}
