/**
 * The Lua scripts the cluster runs in the store: each is one atomic round trip, timed by the
 * store's own clock (`TIME`) so that replicas whose clocks differ agree on ages. Loaded with
 * EVALSHA (ioredis falls back to EVAL after the store restarted and forgot them).
 *
 * Keys, all under `cluster.key_prefix` (`P`): `P node:<id>` (a replica's heartbeat), `P nodes`,
 * `P secret`, `P s:<id>` (a session record), `P sub:<id>` (its resource subscriptions, a set),
 * `P sessions` and `P who:<name>` (sessions by last activity, in all and per identity),
 * `P o:<id>` (a session's outbox, a stream), `P own:<key>`
 * (the replica holding a session's upstream instances), `P rl:<key>` (a rate-limit bucket).
 */
import type { Redis } from "ioredis";

/** Milliseconds of the store's clock, and a session's removal (record, outbox, indexes). */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function drop(p, id, reason)
  local who = redis.call('HGET', p .. 's:' .. id, 'who')
  redis.call('DEL', p .. 's:' .. id, p .. 'sub:' .. id, p .. 'o:' .. id, p .. 'own:' .. id)
  redis.call('ZREM', p .. 'sessions', id)
  if who and who ~= '' then redis.call('ZREM', p .. 'who:' .. who, id) end
  redis.call('PUBLISH', p .. 'bus', cjson.encode({t = 'end', s = id, r = reason}))
end
`;

/**
 * heartbeat(P, id, info, ttl): records this replica for `ttl` ms and returns the replicas seen
 * as [id, info, id, info, ...].
 */
const HEARTBEAT = `
local p, id, info, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
redis.call('SET', p .. 'node:' .. id, info, 'PX', ttl)
redis.call('ZADD', p .. 'nodes', now, id)
redis.call('ZREMRANGEBYSCORE', p .. 'nodes', '-inf', now - ttl)
local out = {}
for _, node in ipairs(redis.call('ZRANGE', p .. 'nodes', 0, -1)) do
  local seen = redis.call('GET', p .. 'node:' .. node)
  if seen then out[#out + 1] = node; out[#out + 1] = seen end
end
return out
`;

/**
 * admit(P, id, owner, perClient, total, busyMs, ttl, field, value, ...): opens a session under
 * the caps, ending the least recently used sessions idle for at least `busyMs` to make room.
 * Returns {'ok', evicted...}, or {'client'} / {'gateway'} when the cap is full of busy sessions.
 */
const ADMIT = `
local p, id, owner = ARGV[1], ARGV[2], ARGV[3]
local per_client, total, busy, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local now = now_ms()
local evicted = {}
local function make_room(zkey, cap)
  while redis.call('ZCARD', zkey) >= cap do
    local victim = redis.call('ZRANGEBYSCORE', zkey, '-inf', now - busy, 'LIMIT', 0, 1)[1]
    if not victim then return false end
    drop(p, victim, 'evicted')
    evicted[#evicted + 1] = victim
  end
  return true
end
if owner ~= '' and per_client > 0 and not make_room(p .. 'who:' .. owner, per_client) then
  return {'client'}
end
if not make_room(p .. 'sessions', total) then return {'gateway'} end
local record = p .. 's:' .. id
for i = 8, #ARGV, 2 do redis.call('HSET', record, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', record, 'created', now, 'used', '0')
redis.call('PEXPIRE', record, ttl)
redis.call('ZADD', p .. 'sessions', now, id)
if owner ~= '' then redis.call('ZADD', p .. 'who:' .. owner, now, id) end
return {'ok', unpack(evicted)}
`;

/**
 * touch(P, ttl, id...): marks sessions active (and used) now and keeps their keys for `ttl` ms;
 * returns the ids that have no record any more.
 */
const TOUCH = `
local p, ttl = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local gone = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local record = p .. 's:' .. id
  local who = redis.call('HGET', record, 'who')
  if who then
    redis.call('HSET', record, 'used', '1')
    redis.call('PEXPIRE', record, ttl)
    redis.call('PEXPIRE', p .. 'sub:' .. id, ttl)
    redis.call('PEXPIRE', p .. 'o:' .. id, ttl)
    redis.call('PEXPIRE', p .. 'own:' .. id, ttl)
    redis.call('ZADD', p .. 'sessions', 'XX', now, id)
    if who ~= '' then redis.call('ZADD', p .. 'who:' .. who, 'XX', now, id) end
  else
    gone[#gone + 1] = id
  end
end
return gone
`;

/**
 * sweep(P, idleMs, unusedMs, limit): ends sessions idle past their TTL (the shorter one while
 * unused) and index entries whose record is gone; returns how many.
 */
const SWEEP = `
local p, idle, unused, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local ended = 0
local old = redis.call('ZRANGEBYSCORE', p .. 'sessions', '-inf', now - math.min(idle, unused), 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #old, 2 do
  local id, at = old[i], tonumber(old[i + 1])
  local used = redis.call('HGET', p .. 's:' .. id, 'used')
  local ttl = (used == '1') and idle or unused
  if not used or at < now - ttl then
    drop(p, id, 'idle_timeout')
    ended = ended + 1
  end
end
return ended
`;

/**
 * subscribe(P, id, uri, wanted): adds (`wanted` "1") or removes one resource subscription of a
 * live session, one URI at a time so that subscriptions made at once through several replicas
 * all count, and announces the change; returns 0 when the session is gone.
 */
const SUBSCRIBE = `
local p, id, uri = ARGV[1], ARGV[2], ARGV[3]
local record = p .. 's:' .. id
local ttl = redis.call('PTTL', record)
if ttl == -2 then return 0 end
local subs = p .. 'sub:' .. id
if ARGV[4] == '1' then redis.call('SADD', subs, uri) else redis.call('SREM', subs, uri) end
if ttl > 0 then redis.call('PEXPIRE', subs, ttl) end
redis.call('PUBLISH', p .. 'bus', cjson.encode({t = 'chg', s = id}))
return 1
`;

/** remove(P, id, reason): ends a session everywhere. */
const REMOVE = `
local existed = redis.call('EXISTS', ARGV[1] .. 's:' .. ARGV[2])
drop(ARGV[1], ARGV[2], ARGV[3])
return existed
`;

/**
 * push(P, id, json, maxLen, ttl, once): appends a message to a live session's outbox and
 * announces it as "<id> LF <event id> LF <json>" on P out; returns the event id, or false when
 * the session is gone or a message of the same `once` key was appended already (every replica
 * relays what a shared upstream says; only the first copy counts).
 */
const PUSH = `
local p, id, json, once = ARGV[1], ARGV[2], ARGV[3], ARGV[6]
if redis.call('EXISTS', p .. 's:' .. id) == 0 then return false end
if once ~= '' and not redis.call('SET', p .. 'd:' .. id .. ':' .. once, '1', 'NX', 'PX', 10000) then
  return false
end
local outbox = p .. 'o:' .. id
local eid = redis.call('XADD', outbox, 'MAXLEN', ARGV[4], '*', 'm', json)
redis.call('PEXPIRE', outbox, ARGV[5])
redis.call('PUBLISH', p .. 'out', id .. '\\n' .. eid .. '\\n' .. json)
return eid
`;

/**
 * claim(P, key, node, ttl, expected): the replica holding the upstream instances of `key`. With
 * `expected` empty, claims a free key; else takes it over from `expected` (a replica that is
 * gone), announcing the change. Returns the holder.
 */
const CLAIM = `
local p, key, node, ttl, expected = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local own = p .. 'own:' .. key
local current = redis.call('GET', own)
if current and current ~= expected then return current end
redis.call('SET', own, node, 'PX', ttl)
if expected ~= '' then
  redis.call('PUBLISH', p .. 'bus', cjson.encode({t = 'own', k = key, n = node}))
end
return node
`;

/**
 * take(P, key, rate, burst): takes a token of a client's bucket (refilled at `rate` per second,
 * holding `burst`); returns 0, or the wait in ms until one is there.
 */
const TAKE = `
local bucket = ARGV[1] .. 'rl:' .. ARGV[2]
local rate, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local state = redis.call('HMGET', bucket, 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', bucket, math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

const SCRIPTS = {
  heartbeat: HEARTBEAT,
  admit: ADMIT,
  touch: TOUCH,
  sweep: SWEEP,
  remove: REMOVE,
  subscribe: SUBSCRIBE,
  push: PUSH,
  claim: CLAIM,
  take: TAKE,
} as const;

/** The name of a script. */
export type ScriptName = keyof typeof SCRIPTS;

/** Registers every script on a connection, as a command of its name taking only ARGV. */
export function defineScripts(redis: Redis): void {
  for (const [name, body] of Object.entries(SCRIPTS)) {
    redis.defineCommand(name, { numberOfKeys: 0, lua: PRELUDE + body });
  }
}

/** Runs a script defined by {@link defineScripts}. */
export function runScript(
  redis: Redis,
  name: ScriptName,
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  const command =
    (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!;
  return command.apply(redis, args as unknown[]);
}
