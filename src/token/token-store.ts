import type { Redis } from '../infra/redis';
import type { Clock } from '../clock';
import { parseRecord, type TokenRecord } from './token-record';

/** Drops the record only while it still holds the token that failed. */
const DELETE_IF_TOKEN = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and rec.accessToken == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

/** L2: the fleet's truth about each tenant's token, in Redis. */
export class TokenStore {
  constructor(private readonly redis: Redis, private readonly clock: Clock) {}

  async get(key: string): Promise<TokenRecord | null> {
    return parseRecord(await this.redis.get(key));
  }

  async set(key: string, rec: TokenRecord): Promise<void> {
    // Redis expiry is only garbage collection; validity is decided by expiresAt on the clock.
    const ttlMs = Math.max(1000, rec.expiresAt - this.clock.now()) + 3600_000;
    await this.redis.set(key, JSON.stringify(rec), 'PX', Math.round(ttlMs));
  }

  async deleteIfToken(key: string, accessToken: string): Promise<boolean> {
    return (await this.redis.eval(DELETE_IF_TOKEN, 1, key, accessToken)) === 1;
  }
}
