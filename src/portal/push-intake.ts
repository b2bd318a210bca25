import { randomUUID } from 'node:crypto';
import type { Redis } from '../infra/redis';
import { luaScript, runScript } from '../infra/lua-script';
import { redisKeys } from '../infra/redis-keys';
import { isRecord } from '../kernel/records';
import { DEFAULT_SHARDS, shardOf, shardStream, toFields } from '../delivery/webhook-keys';

/** The hash tag of a tenant's push keys: its delivery shard's, so claiming and queueing a push touch one Redis Cluster slot. */
export const pushSlotTag = (appid: string, shards: number): string => redisKeys.deliveryShardTag(shardOf(appid, shards));

/**
 * Accepts a push exactly once across the fleet, in one atomic Redis script:
 * - the signed query is bound to this use (see PushReplayGuard): another body or mode with the same
 *   (timestamp, nonce, signature) is a replay and nothing else happens;
 * - the dedup record (keyed by MsgId/FromUserName/CreateTime, or the event's triple) is created with
 *   the answer WeChat gets, and
 * - when the tenant has a webhook, the message is appended to its delivery shard's stream.
 * Either all happen or none, so an answered push is always queued, and a WeChat retry (which may
 * reach another instance) finds the same answer and queues nothing. The answer is computed before
 * the script runs (rules and replies are pure), so there is no "in progress" state to wait on.
 */
const ACCEPT = `
local prev = redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX', 'GET')
if prev and prev ~= ARGV[1] then return {2, ''} end
if not redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[4]) then
  return {0, redis.call('GET', KEYS[2])}
end
if ARGV[5] == '1' then
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, 6))
end
return {1, ''}`;

/** Sent as EVALSHA: the script text (and Redis' parse of it) is paid once per node, not once per push. */
const ACCEPT_SCRIPT = luaScript(ACCEPT);

const REPLY_PREFIX = 'reply:';

export type IntakeOutcome = { kind: 'accepted'; deliveryId?: string } | { kind: 'duplicate'; reply: string | null } | { kind: 'replayed' };

/** One push to accept: everything needed to claim it, answer a retry and queue it, with no request left. */
export interface PushClaim {
  /** Redis key binding the signed query to its first use, and that use's digest. */
  replay: { key: string; digest: string; ttlS: number };
  dedupKey: string;
  /** The answer for this push (null: "success"). */
  plainReply: string | null;
  /** Queues the message for the tenant's webhook. */
  forward?: { appid: string; message: unknown; receivedAt: number; deliveryId?: string };
  /** Customer messages a rule sends once the push is accepted (not before: a replay or a retry sends none). */
  actions?: { appid: string; touser: string; customerMessages: unknown[] };
}

/** Whether a value read back from the spool is a claim this version can accept. */
export function isPushClaim(v: unknown): v is PushClaim {
  if (!isRecord(v) || !isRecord(v.replay) || typeof v.dedupKey !== 'string' || !(v.plainReply === null || typeof v.plainReply === 'string')) return false;
  const r = v.replay;
  if (typeof r.key !== 'string' || typeof r.digest !== 'string' || typeof r.ttlS !== 'number') return false;
  if (v.forward !== undefined && (!isRecord(v.forward) || typeof v.forward.appid !== 'string' || typeof v.forward.receivedAt !== 'number')) return false;
  if (v.actions !== undefined && (!isRecord(v.actions) || typeof v.actions.appid !== 'string' || typeof v.actions.touser !== 'string' || !Array.isArray(v.actions.customerMessages)))
    return false;
  return true;
}

/**
 * The dedup record goes in the slot of the replay binding, whose key carries the tenant's shard tag
 * (see replayKey). A claim spooled by an older version has an untagged replay key: its dedup key gets
 * no tag either (only a single Redis, where it was spooled, takes such a pair).
 */
export function slotTagOf(replayKey: string): string {
  // The first `{...}` with at least one character and no brace inside (what /\{[^{}]+\}/ finds),
  // without a regex match object per push.
  let open = replayKey.indexOf('{');
  while (open >= 0) {
    const close = replayKey.indexOf('}', open + 1);
    if (close < 0) return '';
    const inner = replayKey.indexOf('{', open + 1);
    if (inner >= 0 && inner < close) open = inner;
    else if (close > open + 1) return replayKey.slice(open, close + 1);
    else open = replayKey.indexOf('{', close + 1);
  }
  return '';
}

export class PushIntake {
  constructor(
    private readonly redis: Redis,
    /** How long an answered push is remembered (at least as long as a push is accepted). */
    private readonly ttlS: number,
    /** DELIVERY_SHARDS: the push is queued in its tenant's shard. */
    private readonly shards: number = DEFAULT_SHARDS,
  ) {}

  async accept(c: PushClaim): Promise<IntakeOutcome> {
    const forward = c.forward;
    const deliveryId = forward ? (forward.deliveryId ?? randomUUID()) : undefined;
    const fields = forward && deliveryId ? toFields({ deliveryId, appid: forward.appid, message: JSON.stringify(forward.message), attempts: 0, receivedAt: forward.receivedAt }) : [];
    // Without a webhook the script touches the replay and dedup keys only, so only those are declared.
    const keys = [c.replay.key, redisKeys.pushDedup(slotTagOf(c.replay.key), c.dedupKey), ...(forward ? [shardStream(shardOf(forward.appid, this.shards))] : [])];
    const args: string[] = [c.replay.digest, String(c.replay.ttlS), REPLY_PREFIX + (c.plainReply ?? ''), String(this.ttlS), forward ? '1' : '0', ...fields];
    // NOSCRIPT means nothing ran, so running the script then cannot apply the push twice.
    const result = await runScript(this.redis, ACCEPT_SCRIPT, keys, args);
    const [won, existing] = result as [number, string | null];
    if (won === 2) return { kind: 'replayed' };
    if (won === 1) return { kind: 'accepted', ...(deliveryId ? { deliveryId } : {}) };
    const reply = existing?.startsWith(REPLY_PREFIX) ? existing.slice(REPLY_PREFIX.length) : '';
    return { kind: 'duplicate', reply: reply === '' ? null : reply };
  }
}
