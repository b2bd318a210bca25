import { createHash } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { luaScript, runScript } from '../infra/lua-script';
import type { Clock } from '../kernel/clock';
import type { SecretBox } from '../tenancy/secret-box';
import { parseRecord, type TokenRecord } from './token-record';

/**
 * Drops the record only while it still holds the token that failed. The stored record names its
 * token by fingerprint; `accessToken` is the plaintext field of records written before tokens were
 * sealed.
 */
const DELETE_IF_TOKEN = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and (rec.fp == ARGV[1] or rec.accessToken == ARGV[2]) then redis.call('DEL', KEYS[1]) return 1 end
return 0`;
const DELETE_IF_TOKEN_SCRIPT = luaScript(DELETE_IF_TOKEN);

/** Writes only while the writer still holds the lock: a fetch that outlived its lock must not overwrite a newer token. */
const SET_IF_LOCK_HELD = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;
const SET_IF_LOCK_HELD_SCRIPT = luaScript(SET_IF_LOCK_HELD);

/** What Redis holds: the record with its token sealed, and a fingerprint to compare tokens by. */
interface StoredRecord extends Omit<TokenRecord, 'accessToken'> {
  sealed: string;
  fp: string;
}

/** Names a token without revealing it (a token has full entropy, so a plain hash is enough). */
export const tokenFingerprint = (accessToken: string): string => createHash('sha256').update(accessToken, 'utf8').digest('hex');

/** The sealed token is bound to its key: a value copied to another tenant's key fails to open. */
export const tokenSealContext = (key: string): string => `access-token:${key}`;
const sealContext = tokenSealContext;

/**
 * L2: the fleet's truth about each tenant's token, in Redis. Tokens are sealed with SECRETS_KEY, so a
 * Redis dump or replica yields no usable token; L1 keeps the opening cost off the hot path.
 */
export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  async get(key: string): Promise<TokenRecord | null> {
    return this.decode(key, await this.redis.get(key));
  }

  /** Returns false when the lock was lost meanwhile (nothing is written then). */
  async setUnderLock(key: string, rec: TokenRecord, lock: { key: string; value: string }): Promise<boolean> {
    // Redis expiry is only garbage collection; validity is decided by expiresAt on the clock.
    const ttlMs = Math.round(Math.max(1000, rec.expiresAt - this.clock.now()) + 3600_000);
    return (await runScript(this.redis, SET_IF_LOCK_HELD_SCRIPT, [key, lock.key], [lock.value, this.encode(key, rec), String(ttlMs)])) === 1;
  }

  async deleteIfToken(key: string, accessToken: string): Promise<boolean> {
    return (await runScript(this.redis, DELETE_IF_TOKEN_SCRIPT, [key], [tokenFingerprint(accessToken), accessToken])) === 1;
  }

  private encode(key: string, rec: TokenRecord): string {
    const { accessToken, ...times } = rec;
    const stored: StoredRecord = { ...times, sealed: this.box.seal(accessToken, sealContext(key)), fp: tokenFingerprint(accessToken) };
    return JSON.stringify(stored);
  }

  /** A record that cannot be opened (another SECRETS_KEY, tampering) counts as missing: it is fetched anew. */
  private decode(key: string, raw: string | null): TokenRecord | null {
    if (!raw) return null;
    let v: Partial<StoredRecord> & { accessToken?: unknown };
    try {
      v = JSON.parse(raw) as typeof v;
    } catch {
      return null;
    }
    if (typeof v.sealed !== 'string') return parseRecord(raw);
    const { sealed, fp: _fp, ...times } = v;
    let accessToken: string;
    try {
      accessToken = this.box.open(sealed, sealContext(key));
    } catch {
      return null;
    }
    return parseRecord(JSON.stringify({ ...times, accessToken }));
  }
}
