import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../kernel/errors';
import type { Redis } from '../infra/redis';
import { redisKeys } from '../infra/redis-keys';

/**
 * User sessions in Redis. The token handed to the client is 32 random bytes (base64url, 43 chars);
 * Redis only ever sees its SHA-256, so a dump of Redis yields no usable token. A fast hash is right
 * here: the token has full entropy. The value names the tenant and the user; the lifetime is the
 * key's TTL (fixed, not sliding).
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

/** The Redis key of a token; exported so tests can age a session the way Redis would. */
export function sessionRedisKey(token: string): string {
  return redisKeys.session(sessionHash(token));
}

function unavailable(cause: unknown): AppError {
  return new AppError(503, 'SESSION_STORE_UNAVAILABLE', 'sessions cannot be checked right now; retry shortly', {
    headers: { 'Retry-After': '1' },
    cause,
  });
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    readonly ttlSeconds: number,
  ) {}

  async create(appid: string, openid: string, now: number): Promise<IssuedSession> {
    const token = randomBytes(32).toString('base64url');
    const hash = sessionHash(token);
    const value = JSON.stringify({ appid, openid, iat: now });
    try {
      await this.redis.set(redisKeys.session(hash), value, 'EX', this.ttlSeconds);
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
      raw = await this.redis.get(redisKeys.session(hash));
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
  async destroy(token: string): Promise<boolean> {
    if (!SESSION_TOKEN_FORMAT.test(token)) return false;
    try {
      return (await this.redis.del(sessionRedisKey(token))) > 0;
    } catch (err) {
      throw unavailable(err);
    }
  }
}
