-- Extends existing leases: a released lease (XX) or one already expired, even if no acquire has
-- removed it yet, is not brought back.
-- KEYS[1] zset holder → expiry   ARGV[1] expiresAt   ARGV[2] now   ARGV[3..] holders
local now = tonumber(ARGV[2])
for i = 3, #ARGV do
  local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
  if expiry and expiry > now then redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i]) end
end
local ttl = tonumber(ARGV[1]) - now
if ttl > 0 and redis.call('EXISTS', KEYS[1]) == 1 and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
