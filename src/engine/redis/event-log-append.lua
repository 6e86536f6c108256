-- Prelude: appends one event to a namespace's log — next offset, store, trim to the count and
-- byte limits (oldest first, never the new event) — and publishes it. Publishing inside the
-- same atomic step as the append makes the publish order equal the offset order.
-- state: event-log state hash   entries: event list
-- Returns epoch, offset.
local function appendToEventLog(state, entries, json, maxEvents, maxBytes, epochIfNone, channel, encodedNs)
  redis.call('HSETNX', state, 'epoch', epochIfNone)
  local epoch = redis.call('HGET', state, 'epoch')
  local offset = redis.call('HINCRBY', state, 'last', 1)

  local count = redis.call('RPUSH', entries, json)
  if count == 1 then redis.call('HSET', state, 'oldest', offset, 'bytes', 0) end
  local bytes = redis.call('HINCRBY', state, 'bytes', #json)
  local oldest = tonumber(redis.call('HGET', state, 'oldest'))
  while count > 1 and (count > maxEvents or bytes > maxBytes) do
    local evicted = redis.call('LPOP', entries)
    bytes = bytes - #evicted
    count = count - 1
    oldest = oldest + 1
  end
  redis.call('HSET', state, 'oldest', oldest, 'bytes', bytes)

  redis.call('PUBLISH', channel, encodedNs .. ' ' .. epoch .. ' ' .. offset .. ' ' .. json)
  return epoch, offset
end
