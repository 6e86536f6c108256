-- Token bucket take (the same step as takeFromBucket in memory/limits.ts).
-- KEYS[1] bucket hash {tokens, at}
-- ARGV[1] rate per second   ARGV[2] capacity   ARGV[3] want   ARGV[4] min   ARGV[5] now (ms)
-- Returns {granted, retryAfterMs} as strings (tokens may be fractional).
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local min = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = capacity
if stored[1] then
  local elapsed = now - tonumber(stored[2])
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tonumber(stored[1]) + elapsed * rate / 1000)
end
local granted = 0
local retry = 0
if tokens >= min then
  granted = math.min(tokens, want)
  tokens = tokens - granted
else
  retry = math.ceil((min - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
-- An idle bucket refills completely in capacity/rate seconds; then it equals an absent one.
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return {tostring(granted), tostring(retry)}
