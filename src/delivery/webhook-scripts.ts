/**
 * The Lua scripts of webhook delivery. Each one touches the keys of one shard only (they all carry
 * the shard's hash tag), so each runs in one Redis Cluster slot.
 */

/** Lua: appends the delivery encoded as JSON in `member` to the stream KEYS[stream]; a member that does not decode is queued raw, for the worker to dead-letter. */
const XADD_MEMBER = `
local function xadd_member(stream, member)
  local ok, f = pcall(cjson.decode, member)
  if not ok or type(f) ~= 'table' or not f.deliveryId or not f.appid or not f.message then
    redis.call('XADD', stream, '*', 'raw', member)
    return
  end
  local args = {'XADD', stream, '*', 'deliveryId', f.deliveryId, 'appid', f.appid, 'message', f.message, 'attempts', tostring(f.attempts or 0), 'receivedAt', tostring(f.receivedAt or 0), 'lastError', f.lastError or ''}
  -- A parked entry keeps the time it was first queued, so the oldest-pending age does not restart.
  if f.since then args[#args + 1] = 'since'; args[#args + 1] = tostring(f.since) end
  redis.call(unpack(args))
end
`;

/**
 * Housekeeping of one shard: moves retries due by the clock (ARGV[1]) back into the stream,
 * atomically so that a crash in between loses nothing; answers how many moved, the next due time
 * ('' if none) and tenants with parked entries (so that a worker with room for one takes them).
 */
export const HOUSEKEEP = `${XADD_MEMBER}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, member in ipairs(due) do
  xadd_member(KEYS[2], member)
  redis.call('ZREM', KEYS[1], member)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {#due, nxt[2] or '', redis.call('ZRANGE', KEYS[3], 0, 99)}`;

/**
 * Parks an entry read for a tenant that is at its cap in this worker: off the shard stream (so the
 * tenants behind it are read), onto the tenant's parked list, and the tenant into the shard's index
 * of parked tenants; all or nothing. An entry no longer pending (taken over meanwhile) is left alone.
 */
export const PARK = `
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[4])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1`;

/**
 * Takes up to ARGV[4] parked entries of a tenant back into the shard stream and reads, in the same
 * step, as many new entries for this consumer (usually those, unless older ones were waiting): they
 * are pending for this worker at once, so another worker at its cap for the tenant cannot grab them
 * and park them again.
 */
export const UNPARK = `${XADD_MEMBER}
local moved = 0
while moved < tonumber(ARGV[4]) do
  local m = redis.call('LPOP', KEYS[1])
  if not m then break end
  xadd_member(KEYS[3], m)
  moved = moved + 1
end
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[3]) end
if moved == 0 then return {} end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', moved, 'STREAMS', KEYS[3], '>')
if not r then return {} end
return r[1][2]`;

/**
 * Takes over entries idle in other consumers' hands (their worker died) and returns each with its
 * delivery count, which XAUTOCLAIM has just raised: the count says how many times the entry was
 * handed out, so a redelivery carries the next attempt number. An entry whose data is gone (deleted
 * from the stream; Redis 6.2 still lists it) can never be delivered and is acknowledged.
 */
export const RECLAIM = `
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local out = {}
for _, e in ipairs(res[2]) do
  if e[2] then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    out[#out + 1] = {e[1], e[2], p[1] and p[1][4] or 1}
  else
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
  end
end
return out`;

/**
 * Appends a dead letter to the tenant's dead-letter stream (KEYS[1]) whose id is its time of death
 * on the worker's clock (so retention is by that clock), capped in length, and notes the tenant in
 * the shard's index of tenants with dead letters (KEYS[2], for the trim). If that id is not above
 * the stream's last one (clocks of two instances disagree), Redis picks the id: a dead letter is
 * never refused for its timestamp. ARGV: time, cap, appid, then the fields.
 */
export const DEAD_LETTER = `
local args = {'XADD', KEYS[1], 'MAXLEN', '=', ARGV[2], ARGV[1] .. '-*'}
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
local id = redis.pcall(unpack(args))
if type(id) == 'table' and id.err then
  args[6] = '*'
  id = redis.call(unpack(args))
end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
return id`;

/** Trims a tenant's dead letters older than ARGV[1] (an id) and drops the tenant from the shard's index once it has none; answers how many went. */
export const TRIM_DEAD = `
local n = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
return n`;
