-- Clears the token hash, sets revoked, bumps the generation.
-- KEYS[1] namespace record hash
-- Returns the record, or nil when the namespace is unknown.
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HDEL', KEYS[1], 'tokenHash')
redis.call('HSET', KEYS[1], 'revoked', 1)
redis.call('HINCRBY', KEYS[1], 'generation', 1)
return redis.call('HGETALL', KEYS[1])
