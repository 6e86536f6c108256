-- SET NX PX, except that the current owner re-acquiring extends its lease.
-- KEYS[1] lock key   ARGV[1] owner   ARGV[2] ttl (ms)
-- Returns 1 when the caller holds the lock now, else 0.
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
