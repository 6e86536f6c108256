-- Extends existing leases (XX: a released or expired lease is not brought back).
-- KEYS[1] zset holder → expiry   ARGV[1] expiresAt   ARGV[2] now   ARGV[3..] holders
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i]) end
local ttl = tonumber(ARGV[1]) - tonumber(ARGV[2])
if ttl > 0 and redis.call('EXISTS', KEYS[1]) == 1 and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
