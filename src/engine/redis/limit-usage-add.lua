-- Usage counter with a ceiling: add if the result stays within the limit (decrements always
-- apply, never below 0).
-- KEYS[1] usage hash   ARGV[1] counter   ARGV[2] delta   ARGV[3] limit
-- Returns {applied (1|0), counter after}.
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local delta = tonumber(ARGV[2])
local next = used + delta
if next < 0 then next = 0 end
if delta > 0 and next > tonumber(ARGV[3]) then return {0, tostring(used)} end
redis.call('HSET', KEYS[1], ARGV[1], tostring(next))
return {1, tostring(next)}
