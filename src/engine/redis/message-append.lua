-- Appends one message: dedupe by localId (then id), seq = last + 1, store, position index,
-- queue index, epoch bump when the row lands behind the newest position, history trim.
-- KEYS[1] message hash   KEYS[2] seqs   KEYS[3] positions   KEYS[4] queue   KEYS[5] session hash
-- ARGV[1] id   ARGV[2] localId ('' = none)   ARGV[3] createdAt   ARGV[4] invokedAt ('' = null)
-- ARGV[5] sortable key of the row's time (invokedAt or createdAt)   ARGV[6] content
-- ARGV[7] history limit (0 = keep all)
-- ARGV[8] lowest seq the row may get (a carried-over row's seq; '0' = none): seq = max(last + 1, it)
-- ARGV[9] bytes the row counts against the history quota ('0' = none; stored as r:<seq>:b)
-- Optionally the event announcing an inserted row, appended to the namespace's event log in the
-- same atomic step (appendToEventLog, in the prelude): KEYS[6] event-log state, KEYS[7] event
-- list, ARGV[10] event JSON before the seq, ARGV[11] after it, ARGV[12] max events,
-- ARGV[13] max bytes, ARGV[14] epoch if none yet, ARGV[15] channel, ARGV[16] encoded namespace.
-- Returns {'session-not-found'} | {'duplicate', row, attached}
--   | {'inserted', seq, attached, trimmed[, epoch, offset]}
-- (attached: the session's attached-socket count; trimmed: the counted bytes of the rows the
-- history limit removed)
if redis.call('EXISTS', KEYS[5]) == 0 then return {'session-not-found'} end
local id, localId = ARGV[1], ARGV[2]

local existing = (localId ~= '' and redis.call('HGET', rows, 'lid:' .. localId)) or redis.call('HGET', rows, 'id:' .. id)
local attached = tonumber(redis.call('HGET', KEYS[5], 'attached') or '0')
if existing then return {'duplicate', readRow(existing), attached} end

local seq = math.max(tonumber(redis.call('HGET', rows, 'last') or '0') + 1, tonumber(ARGV[8]))
redis.call('HSET', rows, 'last', seq)
local position = positionMember(ARGV[5], seq)
local head = redis.call('ZREVRANGE', KEYS[3], 0, 0)[1]
-- Clients holding pages newer than this row must refetch: bump the epoch.
if head and string.sub(position, 1, 16) < string.sub(head, 1, 16) then
  redis.call('HINCRBY', rows, 'epoch', 1)
end

redis.call('HSET', rows, col(seq, 'id'), id, col(seq, 'ca'), ARGV[3], col(seq, 'c'), ARGV[6], col(seq, 'p'), position, col(seq, 'b'), ARGV[9], 'id:' .. id, seq)
if localId ~= '' then redis.call('HSET', rows, col(seq, 'lid'), localId, 'lid:' .. localId, seq) end
if ARGV[4] ~= '' then
  redis.call('HSET', rows, col(seq, 'ia'), ARGV[4])
elseif localId ~= '' then
  redis.call('ZADD', KEYS[4], seq, seq)
end
redis.call('ZADD', KEYS[2], seq, seq)
redis.call('ZADD', KEYS[3], 0, position)

local limit = tonumber(ARGV[7])
local trimmed = 0
if limit > 0 then
  local excess = redis.call('ZCARD', KEYS[2]) - limit
  if excess > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
      trimmed = trimmed + removeRow(old, KEYS[2], KEYS[3], KEYS[4])
    end
  end
end
-- The caller knows the rest of the row it just wrote: only the seq goes back.
if KEYS[6] then
  local epoch, offset = appendToEventLog(KEYS[6], KEYS[7], ARGV[10] .. seq .. ARGV[11], tonumber(ARGV[12]), tonumber(ARGV[13]), ARGV[14], ARGV[15], ARGV[16])
  return {'inserted', seq, attached, trimmed, epoch, offset}
end
return {'inserted', seq, attached, trimmed}
