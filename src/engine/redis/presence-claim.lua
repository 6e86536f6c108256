-- Takes overdue entries out of one shard of the global deadline index. ZREM inside the check
-- makes each entry claimable by exactly one sweeper, however many run at once.
-- KEYS[1] deadline shard zset   ARGV[1] now   ARGV[2..] candidate members
-- Returns the members this call removed (still overdue at the time of the call).
local claimed = {}
local now = tonumber(ARGV[1])
for i = 2, #ARGV do
  local deadline = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if deadline and tonumber(deadline) <= now then
    redis.call('ZREM', KEYS[1], ARGV[i])
    claimed[#claimed + 1] = ARGV[i]
  end
end
return claimed
