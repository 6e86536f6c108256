-- Versioned write of one document column of a session or machine row.
-- KEYS[1] row hash
-- ARGV[1] column   ARGV[2] its version column   ARGV[3] expected version   ARGV[4] new value (JSON)
-- ARGV[5] updatedAt rule: 'max' (updatedAt = max(updatedAt, now)) | 'set' (= now) | 'keep'
-- ARGV[6] now
-- Returns {'not-found'} | {'version-mismatch', version, stored value} | {'success', new version}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not-found'} end

local version = redis.call('HGET', KEYS[1], ARGV[2])
if tonumber(version) ~= tonumber(ARGV[3]) then
  return {'version-mismatch', version, redis.call('HGET', KEYS[1], ARGV[1])}
end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
local newVersion = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
redis.call('HINCRBY', KEYS[1], 'seq', 1)
local rule, now = ARGV[5], ARGV[6]
if rule == 'set' or (rule == 'max' and tonumber(now) > tonumber(redis.call('HGET', KEYS[1], 'updatedAt'))) then
  redis.call('HSET', KEYS[1], 'updatedAt', now)
end
return {'success', newVersion}
