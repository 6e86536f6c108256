-- Expires claimed entries of one namespace. The row's own deadline is the truth: an entry
-- refreshed (or ended) since it was indexed is not expired.
-- KEYS[i] session or machine hash   ARGV[1] now   ARGV[1 + i] kind of KEYS[i]
-- Returns, per key: 'expired' | 'gone' (no deadline: ended or deleted) | its later deadline.
local now = tonumber(ARGV[1])
local outcome = {}
for i, row in ipairs(KEYS) do
  local deadline = redis.call('HGET', row, 'deadline')
  if not deadline then
    outcome[i] = 'gone'
  elseif tonumber(deadline) > now then
    outcome[i] = deadline
  else
    redis.call('HDEL', row, 'deadline')
    redis.call('HSET', row, 'live:active', 'false')
    if ARGV[1 + i] == 'session' then redis.call('HSET', row, 'live:thinking', 'false') end
    outcome[i] = 'expired'
  end
end
return outcome
