-- Appends one event to a namespace's log: next offset, store, trim to the count and byte limits
-- (oldest first, never the new event) and publish. Publishing here, inside the same atomic step,
-- makes the publish order equal the offset order.
-- KEYS[1] event-log state hash   KEYS[2] event list
-- ARGV[1] event JSON   ARGV[2] max events   ARGV[3] max bytes   ARGV[4] epoch if none yet
-- ARGV[5] pub/sub channel   ARGV[6] encoded namespace
-- Returns {epoch, offset}
local state, entries, json = KEYS[1], KEYS[2], ARGV[1]
redis.call('HSETNX', state, 'epoch', ARGV[4])
local epoch = redis.call('HGET', state, 'epoch')
local offset = redis.call('HINCRBY', state, 'last', 1)

local count = redis.call('RPUSH', entries, json)
if count == 1 then redis.call('HSET', state, 'oldest', offset, 'bytes', 0) end
local bytes = redis.call('HINCRBY', state, 'bytes', #json)
local oldest = tonumber(redis.call('HGET', state, 'oldest'))
local maxEvents, maxBytes = tonumber(ARGV[2]), tonumber(ARGV[3])
while count > 1 and (count > maxEvents or bytes > maxBytes) do
  local evicted = redis.call('LPOP', entries)
  bytes = bytes - #evicted
  count = count - 1
  oldest = oldest + 1
end
redis.call('HSET', state, 'oldest', oldest, 'bytes', bytes)

redis.call('PUBLISH', ARGV[5], ARGV[6] .. ' ' .. epoch .. ' ' .. offset .. ' ' .. json)
return {epoch, offset}
