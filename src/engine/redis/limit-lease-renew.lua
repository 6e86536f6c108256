-- Extends existing leases: expired ones are dropped first (as an acquire would), so neither an
-- expired lease nor a released one (XX) is brought back.
-- KEYS[1] zset holder → expiry   ARGV[1] expiresAt   ARGV[2] now   ARGV[3..] holders
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i]) end
local ttl = tonumber(ARGV[1]) - tonumber(ARGV[2])
if ttl > 0 and redis.call('EXISTS', KEYS[1]) == 1 and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
