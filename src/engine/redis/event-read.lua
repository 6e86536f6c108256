-- Reads the retained events after an offset. Fixes the epoch on first use, so a cursor taken
-- from an empty log stays valid once events arrive.
-- KEYS[1] event-log state hash   KEYS[2] event list
-- ARGV[1] after offset   ARGV[2] epoch if none yet
-- Returns {epoch, nextOffset, oldestOffset, firstReturnedOffset, {json...}}
local state, entries = KEYS[1], KEYS[2]
redis.call('HSETNX', state, 'epoch', ARGV[2])
local epoch = redis.call('HGET', state, 'epoch')
local last = tonumber(redis.call('HGET', state, 'last') or '0')
local count = redis.call('LLEN', entries)
local oldest = last + 1
if count > 0 then oldest = tonumber(redis.call('HGET', state, 'oldest')) end
local first = math.max(math.floor(tonumber(ARGV[1])) + 1, oldest)
local events = {}
if first <= last then events = redis.call('LRANGE', entries, first - oldest, -1) end
return {epoch, tostring(last + 1), tostring(oldest), tostring(first), events}
