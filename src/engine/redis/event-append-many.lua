-- Appends several events to a namespace's log in the given order (storeInEventLog, in the
-- prelude: the outcome of that many event-append.lua calls one after another — consecutive
-- offsets, the log trimmed to the same suffix), and publishes them as ONE message, so every
-- worker's bus parses one message per batch. Publishing in the same atomic step as the append
-- keeps the publish order equal to the offset order.
-- KEYS[1] event-log state hash   KEYS[2] event list
-- ARGV[1] max events   ARGV[2] max bytes   ARGV[3] epoch if none yet   ARGV[4] pub/sub channel
-- ARGV[5] encoded namespace   ARGV[6..] event JSON, in order
-- Returns {epoch, first offset}
local jsons, multiline = {}, false
for i = 6, #ARGV do
  jsons[#jsons + 1] = ARGV[i]
  if string.find(ARGV[i], '\n', 1, true) then multiline = true end
end
local n = #jsons
local epoch, first = storeInEventLog(KEYS[1], KEYS[2], jsons, tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])

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
