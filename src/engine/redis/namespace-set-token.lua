-- Registers the namespace if needed, stores its token hash, clears revoked, bumps the generation.
-- KEYS[1] namespace record hash   KEYS[2] namespace names set
-- ARGV[1] encoded name   ARGV[2] name   ARGV[3] now   ARGV[4] token hash
-- Returns the record.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'name', ARGV[2], 'createdAt', ARGV[3], 'generation', 0, 'revoked', 0)
  redis.call('SADD', KEYS[2], ARGV[1])
end
redis.call('HSET', KEYS[1], 'tokenHash', ARGV[4], 'revoked', 0)
redis.call('HINCRBY', KEYS[1], 'generation', 1)
return redis.call('HGETALL', KEYS[1])
