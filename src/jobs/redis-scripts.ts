/**
 * The Redis store's state changes, each one atomic Lua script. ARGV[1] is the key prefix;
 * a job lives in `<prefix>:job:<id>` (hash), its queue order in `<prefix>:queued` (zset
 * scored rank * 2^32 + seq, so round-robin between owners and FIFO within one).
 */

/** Round-robin rank and queue entry, shared by submit and requeue. */
const enqueue = `
local function enqueue(p, id, owner, typ, seq)
  local rank
  if tonumber(redis.call('HGET', p..':ocount', owner) or '0') > 0 then
    rank = tonumber(redis.call('HGET', p..':orank', owner)) + 1
  else
    local first = redis.call('ZRANGE', p..':queued', 0, 0, 'WITHSCORES')
    if first[2] then rank = math.floor(tonumber(first[2]) / 4294967296) else rank = 1 end
  end
  -- BullMQ priorities stop at 2^21; past it the order is FIFO.
  if rank > 2097151 then rank = 2097151 end
  redis.call('ZADD', p..':queued', string.format('%.0f', rank * 4294967296 + seq), id)
  redis.call('HINCRBY', p..':qtype', typ, 1)
  redis.call('HINCRBY', p..':ocount', owner, 1)
  redis.call('HSET', p..':orank', owner, rank)
  return rank
end
local function dequeue(p, id, owner, typ)
  if redis.call('ZREM', p..':queued', id) == 1 then
    redis.call('HINCRBY', p..':qtype', typ, -1)
    redis.call('HINCRBY', p..':ocount', owner, -1)
  end
end
local function ended(p, k, id, now, ttl)
  redis.call('HSET', k, 'finished_at', now, 'expires_at', now + ttl)
  redis.call('ZADD', p..':expiry', now + ttl, id)
  if redis.call('HEXISTS', k, 'callback') == 1 then redis.call('ZADD', p..':deliveries', now, id) end
end
`;

/** ARGV: prefix, id, type, owner, params, idempotencyKey, requestHash, callback, now, maxQueued → {outcome, id|count, rank} */
export const submitScript = `${enqueue}
local p, id, typ, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local idem = ARGV[6]
local ik = p..':idem:'..owner..':'..idem
if idem ~= '' then
  local existing = redis.call('GET', ik)
  if existing then
    local hash = redis.call('HGET', p..':job:'..existing, 'hash')
    if hash == ARGV[7] then return {'existing', existing, 0} end
    if hash then return {'conflict', existing, 0} end
  end
end
local queued = tonumber(redis.call('HGET', p..':qtype', typ) or '0')
if queued >= tonumber(ARGV[10]) then return {'full', tostring(queued), 0} end
local seq = redis.call('INCR', p..':seq')
local rank = enqueue(p, id, owner, typ, seq)
local k = p..':job:'..id
redis.call('HSET', k, 'id', id, 'type', typ, 'owner', owner, 'params', ARGV[5], 'status', 'queued', 'rank', rank, 'seq', seq,
  'attempts', 0, 'cancel', 0, 'created_at', ARGV[9], 'hash', ARGV[7])
if idem ~= '' then
  redis.call('HSET', k, 'idem', idem)
  redis.call('SET', ik, id)
end
if ARGV[8] ~= '' then redis.call('HSET', k, 'callback', ARGV[8]) end
redis.call('ZADD', p..':jobs', seq, id)
redis.call('ZADD', p..':jobs:o:'..owner, seq, id)
return {'created', id, rank}
`;

/** ARGV: prefix, id, now, maxAttempts, ttl, interruptedError → {outcome, attempts} */
export const startScript = `${enqueue}
local p, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local k = p..':job:'..id
local status = redis.call('HGET', k, 'status')
if not status then return {'gone', 0} end
if status ~= 'queued' and status ~= 'running' then return {'done', 0} end
dequeue(p, id, redis.call('HGET', k, 'owner'), redis.call('HGET', k, 'type'))
local attempts = redis.call('HINCRBY', k, 'attempts', 1)
if attempts > tonumber(ARGV[4]) then
  redis.call('HSET', k, 'status', 'interrupted', 'error', ARGV[6])
  ended(p, k, id, now, tonumber(ARGV[5]))
  return {'interrupted', attempts}
end
redis.call('HSET', k, 'status', 'running', 'started_at', now)
return {'run', attempts}
`;

/** ARGV: prefix, id, attempt, status (succeeded|failed|cancelled|queued|interrupted), result JSON or '', error JSON or '', now, ttl → 1 (or the rank, when queued again) when this run owned the job */
export const finishScript = `${enqueue}
local p, id, status, now = ARGV[1], ARGV[2], ARGV[4], tonumber(ARGV[7])
local k = p..':job:'..id
if redis.call('HGET', k, 'status') ~= 'running' or redis.call('HGET', k, 'attempts') ~= ARGV[3] then return 0 end
if status == 'queued' then
  redis.call('HSET', k, 'status', 'queued')
  redis.call('HINCRBY', k, 'attempts', -1)
  return enqueue(p, id, redis.call('HGET', k, 'owner'), redis.call('HGET', k, 'type'), tonumber(redis.call('HGET', k, 'seq')))
end
redis.call('HSET', k, 'status', status)
if ARGV[5] ~= '' then redis.call('HSET', k, 'result', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', k, 'error', ARGV[6]) end
ended(p, k, id, now, tonumber(ARGV[8]))
return 1
`;

/** ARGV: prefix, id, now, ttl → 'cancelled' | 'requested' | the status it already had | 'gone' */
export const cancelScript = `${enqueue}
local p, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local k = p..':job:'..id
local status = redis.call('HGET', k, 'status')
if not status then return 'gone' end
if status == 'queued' then
  dequeue(p, id, redis.call('HGET', k, 'owner'), redis.call('HGET', k, 'type'))
  redis.call('HSET', k, 'status', 'cancelled')
  ended(p, k, id, now, tonumber(ARGV[4]))
  return 'cancelled'
end
if status == 'running' then
  redis.call('HSET', k, 'cancel', 1)
  return 'requested'
end
return status
`;

/** ARGV: prefix, now, limit, leaseMs → ids whose webhook is due; each is leased until now + leaseMs */
export const claimDeliveriesScript = `
local p, now = ARGV[1], tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', p..':deliveries', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', p..':deliveries', now + tonumber(ARGV[4]), id) end
return ids
`;

/** ARGV: prefix, now, limit → ids deleted */
export const expireScript = `
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p..':expiry', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local k = p..':job:'..id
  local owner = redis.call('HGET', k, 'owner')
  local idem = redis.call('HGET', k, 'idem')
  if owner then
    redis.call('ZREM', p..':jobs:o:'..owner, id)
    if idem then redis.call('DEL', p..':idem:'..owner..':'..idem) end
  end
  redis.call('DEL', k, k..':input', k..':partials')
  redis.call('ZREM', p..':jobs', id)
  redis.call('ZREM', p..':expiry', id)
  redis.call('ZREM', p..':deliveries', id)
end
return #ids
`;
