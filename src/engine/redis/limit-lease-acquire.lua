-- Leased counter: drop expired leases, then grant one if fewer than the limit are held.
-- KEYS[1] zset holder → expiry   ARGV[1] holder   ARGV[2] limit   ARGV[3] expiresAt   ARGV[4] now
-- Returns {granted (1|0), held}.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local held = redis.call('ZCARD', KEYS[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and held >= tonumber(ARGV[2]) then
  return {0, held}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local ttl = tonumber(ARGV[3]) - tonumber(ARGV[4])
if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, redis.call('ZCARD', KEYS[1])}
