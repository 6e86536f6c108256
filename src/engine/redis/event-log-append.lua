-- Prelude: stores events in a namespace's log and publishes one.
--
-- storeInEventLog appends events in order (consecutive offsets) and trims the log to its count
-- and byte limits (oldest first, never the newest event), so a batch leaves the log exactly as
-- that many single appends would.
-- state: event-log state hash   entries: event list   jsons: event JSON strings, in order
-- Returns epoch, first offset.
local function storeInEventLog(state, entries, jsons, maxEvents, maxBytes, epochIfNone)
  local n, added = #jsons, 0
  for i = 1, n do added = added + #jsons[i] end
  redis.call('HSETNX', state, 'epoch', epochIfNone)
  local epoch = redis.call('HGET', state, 'epoch')
  local first = redis.call('HINCRBY', state, 'last', n) - n + 1

  local count = redis.call('RPUSH', entries, unpack(jsons))
  if count == n then redis.call('HSET', state, 'oldest', first, 'bytes', 0) end
  local bytes = redis.call('HINCRBY', state, 'bytes', added)
  local oldest = tonumber(redis.call('HGET', state, 'oldest'))
  while count > 1 and (count > maxEvents or bytes > maxBytes) do
    local evicted = redis.call('LPOP', entries)
    bytes = bytes - #evicted
    count = count - 1
    oldest = oldest + 1
  end
  redis.call('HSET', state, 'oldest', oldest, 'bytes', bytes)
  return epoch, first
end

-- appendToEventLog stores one event and publishes it. Publishing inside the same atomic step as
-- the append makes the publish order equal the offset order.
-- Returns epoch, offset.
local function appendToEventLog(state, entries, json, maxEvents, maxBytes, epochIfNone, channel, encodedNs)
  local epoch, offset = storeInEventLog(state, entries, {json}, maxEvents, maxBytes, epochIfNone)
  redis.call('PUBLISH', channel, encodedNs .. ' ' .. epoch .. ' ' .. offset .. ' ' .. json)
  return epoch, offset
end
