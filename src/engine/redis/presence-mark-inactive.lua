-- Ends presence now: drops the deadline, active = false, then merges the given live fields.
-- KEYS[1] session or machine hash   ARGV name/value pairs (JSON scalars)
-- Returns {'not-found'} | {'ok', wasActive 0|1}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not-found'} end
local wasActive = redis.call('HGET', KEYS[1], 'live:active') == 'true'
redis.call('HDEL', KEYS[1], 'deadline')
redis.call('HSET', KEYS[1], 'live:active', 'false')
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], 'live:' .. ARGV[i], ARGV[i + 1]) end
return {'ok', wasActive and 1 or 0}
