-- Appends several events to a namespace's log in the given order, with the outcome of that many
-- event-append.lua calls one after another (consecutive offsets; the log trimmed to the same
-- suffix: oldest first, never the newest event), and publishes them as ONE message, so every
-- worker's bus parses one message per batch. Publishing in the same atomic step as the append
-- keeps the publish order equal to the offset order.
-- KEYS[1] event-log state hash   KEYS[2] event list
-- ARGV[1] max events   ARGV[2] max bytes   ARGV[3] epoch if none yet   ARGV[4] pub/sub channel
-- ARGV[5] encoded namespace   ARGV[6..] event JSON, in order
-- Returns {epoch, first offset}
local state, entries = KEYS[1], KEYS[2]
local maxEvents, maxBytes = tonumber(ARGV[1]), tonumber(ARGV[2])
local jsons, added, multiline = {}, 0, false
for i = 6, #ARGV do
  local json = ARGV[i]
  jsons[#jsons + 1] = json
  added = added + #json
  if string.find(json, '\n', 1, true) then multiline = true end
end
local n = #jsons

redis.call('HSETNX', state, 'epoch', ARGV[3])
local epoch = redis.call('HGET', state, 'epoch')
local last = redis.call('HINCRBY', state, 'last', n)
local first = last - n + 1

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

-- '#' never starts an encoded namespace (encodeURIComponent escapes it), so it marks a batch:
-- `#<encoded ns> <epoch> <first offset>` then each event on its own line. JSON.stringify never
-- writes a raw newline; an event that has one is published alone, in its place.
if multiline then
  for i = 1, n do
    redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. epoch .. ' ' .. (first + i - 1) .. ' ' .. jsons[i])
  end
else
  redis.call('PUBLISH', ARGV[4], '#' .. ARGV[5] .. ' ' .. epoch .. ' ' .. first .. '\n' .. table.concat(jsons, '\n'))
end
return {epoch, first}
