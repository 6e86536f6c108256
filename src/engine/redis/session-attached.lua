-- Moves a session's attached-socket counter by ARGV[1] (+1 / -1), never below 0. A session that
-- does not exist is left alone (HINCRBY would create a stray hash).
-- KEYS[1] session hash   ARGV[1] delta
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local count = redis.call('HINCRBY', KEYS[1], 'attached', ARGV[1])
if count < 0 then redis.call('HSET', KEYS[1], 'attached', 0) end
return 1
