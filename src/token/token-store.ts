import type { Redis } from '../infra/redis';
import type { Clock } from '../kernel/clock';
import { parseRecord, type TokenRecord } from './token-record';

/** Drops the record only while it still holds the token that failed. */
const DELETE_IF_TOKEN = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and rec.accessToken == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

/** Writes only while the writer still holds the lock: a fetch that outlived its lock must not overwrite a newer token. */
const SET_IF_LOCK_HELD = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

/** L2: the fleet's truth about each tenant's token, in Redis. */
export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
  ) {}

  async get(key: string): Promise<TokenRecord | null> {
    return parseRecord(await this.redis.get(key));
  }

  /** Returns false when the lock was lost meanwhile (nothing is written then). */
  async setUnderLock(key: string, rec: TokenRecord, lock: { key: string; value: string }): Promise<boolean> {
    // Redis expiry is only garbage collection; validity is decided by expiresAt on the clock.
    const ttlMs = Math.round(Math.max(1000, rec.expiresAt - this.clock.now()) + 3600_000);
    return (await this.redis.eval(SET_IF_LOCK_HELD, 2, key, lock.key, lock.value, JSON.stringify(rec), String(ttlMs))) === 1;
  }

  async deleteIfToken(key: string, accessToken: string): Promise<boolean> {
    return (await this.redis.eval(DELETE_IF_TOKEN, 1, key, accessToken)) === 1;
  }
}
