-- Registers a namespace if unknown.
-- KEYS[1] namespace record hash   KEYS[2] namespace names set
-- ARGV[1] encoded name   ARGV[2] name   ARGV[3] now
-- Returns 1 when created now, 0 when it existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'createdAt', ARGV[3], 'generation', 0, 'revoked', 0)
redis.call('SADD', KEYS[2], ARGV[1])
return 1
