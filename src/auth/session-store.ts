import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../kernel/errors';
import type { Redis } from '../infra/redis';
import { luaScript, runScript } from '../infra/lua-script';
import { redisKeys } from '../infra/redis-keys';

/**
 * User sessions in Redis. The token handed to the client is 32 random bytes (base64url, 43 chars);
 * Redis only ever sees its SHA-256, so a dump of Redis yields no usable token. A fast hash is right
 * here: the token has full entropy. The value names the tenant and the user; the lifetime is the
 * key's TTL (fixed, not sliding). Each user's sessions are also listed, so a user can end them all
 * and holds at most SESSION_MAX_PER_USER of them.
 *
 * Redis Cluster: a user's set and their sessions are changed together by one script, so they share
 * a hash tag, the user's bucket (24 bits of a hash of tenant and user). The token begins with the
 * bucket (4 of its 43 characters; the other 39 are random, 234 bits), so a lookup by token alone
 * reaches the right slot. Tokens issued before buckets existed are not found any more: those users
 * log in again once.
 */
export const SESSION_TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  appid: string;
  openid: string;
  /** A short, non-secret id of the session (prefix of the token's hash), for logs and principals. */
  sessionId: string;
}

export interface IssuedSession {
  token: string;
  expiresIn: number;
  sessionId: string;
}

export function sessionHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const BUCKET_CHARS = 4;

/** The user's session bucket: 3 bytes of a hash of tenant and user, base64url (4 characters). */
export function sessionBucket(appid: string, openid: string): string {
  return createHash('sha256').update(`${appid}\n${openid}`, 'utf8').digest().subarray(0, 3).toString('base64url');
}

const bucketOfToken = (token: string): string => token.slice(0, BUCKET_CHARS);

/** The Redis key of a token; exported so tests can age a session the way Redis would. */
export function sessionRedisKey(token: string): string {
  return redisKeys.session(bucketOfToken(token), sessionHash(token));
}

function unavailable(cause: unknown): AppError {
  return new AppError(503, 'STORE_UNAVAILABLE', 'sessions cannot be checked right now (Redis unavailable); retry shortly', {
    headers: { 'Retry-After': '1' },
    cause,
  });
}

/**
 * Stores a new session and records it in the user's set, then ends the user's oldest sessions
 * beyond the limit, in one step: two logins at once cannot both slip under it. Members older than
 * the TTL are sessions Redis already expired; they are pruned first so they do not count.
 * KEYS: the new session, the user's set. ARGV: value, ttl (s), hash, now (ms), max, session key prefix.
 */
const CREATE_SESSION = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[2]) * 1000))
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  for _, h in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do redis.call('DEL', ARGV[6] .. h) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
else
  extra = 0
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return extra`;
const CREATE_SESSION_SCRIPT = luaScript(CREATE_SESSION);

/**
 * Ends every session of a user. KEYS: the user's set, the presented session (which a session
 * created before the per-user sets existed is not listed in). ARGV: session key prefix.
 */
const DESTROY_ALL = `
local hashes = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, h in ipairs(hashes) do redis.call('DEL', ARGV[1] .. h) end
redis.call('DEL', KEYS[1], KEYS[2])
return #hashes`;
const DESTROY_ALL_SCRIPT = luaScript(DESTROY_ALL);

/** Whose session it is: where it is listed. */
export interface SessionOwner {
  appid: string;
  openid: string;
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    readonly ttlSeconds: number,
    /** SESSION_MAX_PER_USER: a login beyond it ends the user's oldest session. */
    readonly maxPerUser: number,
  ) {}

  async create(appid: string, openid: string, now: number): Promise<IssuedSession> {
    const bucket = sessionBucket(appid, openid);
    const token =
      bucket +
      randomBytes(30)
        .toString('base64url')
        .slice(0, 43 - BUCKET_CHARS);
    const hash = sessionHash(token);
    const value = JSON.stringify({ appid, openid, iat: now });
    try {
      await runScript(
        this.redis,
        CREATE_SESSION_SCRIPT,
        [redisKeys.session(bucket, hash), redisKeys.userSessions(bucket, appid, openid)],
        [value, String(this.ttlSeconds), hash, String(now), String(this.maxPerUser), redisKeys.session(bucket, '')],
      );
    } catch (err) {
      throw unavailable(err);
    }
    return { token, expiresIn: this.ttlSeconds, sessionId: hash.slice(0, 16) };
  }

  /** The live session of a token, or undefined (malformed, unknown, expired). */
  async get(token: string): Promise<Session | undefined> {
    if (!SESSION_TOKEN_FORMAT.test(token)) return undefined;
    const hash = sessionHash(token);
    let raw: string | null;
    try {
      raw = await this.redis.get(sessionRedisKey(token));
    } catch (err) {
      throw unavailable(err);
    }
    if (raw === null) return undefined;
    try {
      const v = JSON.parse(raw) as { appid?: unknown; openid?: unknown };
      if (typeof v.appid !== 'string' || typeof v.openid !== 'string') return undefined;
      return { appid: v.appid, openid: v.openid, sessionId: hash.slice(0, 16) };
    } catch {
      return undefined;
    }
  }

  /** Ends a session; true when it existed. */
  async destroy(token: string, owner: SessionOwner): Promise<boolean> {
    if (!SESSION_TOKEN_FORMAT.test(token)) return false;
    const hash = sessionHash(token);
    try {
      const bucket = sessionBucket(owner.appid, owner.openid);
      const res = await this.redis
        .multi()
        .del(redisKeys.session(bucket, hash))
        .zrem(redisKeys.userSessions(bucket, owner.appid, owner.openid), hash)
        .exec();
      const failed = res?.find(([e]) => e);
      if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
      return res[0]?.[1] === 1;
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Ends every session of the user `token` belongs to (the token's own included); returns how many were listed. */
  async destroyAll(token: string, owner: SessionOwner): Promise<number> {
    try {
      // The presented token is the user's, so it carries their bucket; a token that does not is
      // not theirs and is left alone (one slot per script).
      const bucket = sessionBucket(owner.appid, owner.openid);
      const presented = bucketOfToken(token) === bucket ? sessionRedisKey(token) : redisKeys.session(bucket, sessionHash(token));
      return Number(await runScript(this.redis, DESTROY_ALL_SCRIPT, [redisKeys.userSessions(bucket, owner.appid, owner.openid), presented], [redisKeys.session(bucket, '')]));
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/**
 * Ends every session of a user without one of its tokens (an operator's revocation); returns how
 * many were listed. The user's set is passed twice (as the "presented session" too): a harmless
 * second DEL, and both keys stay in the user's slot under Redis Cluster.
 */
export async function endUserSessions(redis: Redis, owner: SessionOwner): Promise<number> {
  const bucket = sessionBucket(owner.appid, owner.openid);
  const set = redisKeys.userSessions(bucket, owner.appid, owner.openid);
  try {
    return Number(await runScript(redis, DESTROY_ALL_SCRIPT, [set, set], [redisKeys.session(bucket, '')]));
  } catch (err) {
    throw unavailable(err);
  }
}
