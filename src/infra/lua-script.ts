import { createHash } from 'node:crypto';
import type { Redis } from './redis';

/** A Lua script sent as EVALSHA (the text is paid once per node) with EVAL as the NOSCRIPT fallback. */
export interface LuaScript {
  text: string;
  sha: string;
}

export const luaScript = (text: string): LuaScript => ({ text, sha: createHash('sha1').update(text).digest('hex') });

/**
 * A Redis that has not seen the script (restarted, flushed, or a replica promoted by a Cluster
 * failover: scripts are kept per node) answers NOSCRIPT; nothing ran, so EVAL then runs it once and
 * caches it there. A plain command rather than ioredis' defineCommand, so no auto-pipeline can lack
 * it (ioredis #1931).
 */
const isNoScript = (err: unknown): boolean => err instanceof Error && err.message.startsWith('NOSCRIPT');

/** Runs `script` once (EVALSHA; EVAL when the node answers NOSCRIPT). */
export function runScript(redis: Redis, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  // A catch on ioredis' promise rather than an async function around it: one promise fewer per call
  // on the push path. ioredis can also throw at once (a Cluster slot map with a gap, with
  // auto-pipelining): that too becomes a rejection, as callers that .catch() expect.
  try {
    return redis.evalsha(script.sha, keys.length, ...keys, ...args).catch((err: unknown) => {
      if (!isNoScript(err)) throw err;
      return redis.eval(script.text, keys.length, ...keys, ...args);
    });
  } catch (err) {
    return Promise.reject(err);
  }
}
