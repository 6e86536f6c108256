-- Non-versioned column writes; updatedAt only moves forward.
-- KEYS[1] session hash
-- ARGV[1] updatedAt ('' = leave as is)   ARGV[2..] column/value pairs (JSON values)
-- Returns the row, or nil when the session does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
if ARGV[1] ~= '' and tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'updatedAt')) then
  redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1])
end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
return redis.call('HGETALL', KEYS[1])
