-- Merges live fields without touching presence.
-- KEYS[1] session or machine hash   ARGV name/value pairs (JSON scalars)
-- Returns the row, or nil when it does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], 'live:' .. ARGV[i], ARGV[i + 1]) end
return redis.call('HGETALL', KEYS[1])
