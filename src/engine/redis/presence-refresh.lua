-- One keep-alive: store the deadline, mark active, merge live fields, and decide whether the
-- caller should announce the new state (became active, visible change, or throttle elapsed).
-- Live values are JSON scalars; equal values have equal JSON text, so strings are compared.
-- KEYS[1] session or machine hash
-- ARGV[1] deadline   ARGV[2] activeAt   ARGV[3] now   ARGV[4] broadcast throttle (ms)
-- ARGV[5] n = number of live fields, then n name/value pairs, then the quiet field names
-- Returns {'not-found'} | {'ok', becameActive 0|1, broadcastDue 0|1, {changed...}, row}
local row = KEYS[1]
if redis.call('EXISTS', row) == 0 then return {'not-found'} end
local now = tonumber(ARGV[3])
local fieldCount = tonumber(ARGV[5])

local becameActive = redis.call('HGET', row, 'live:active') ~= 'true'
local changed = {}
if becameActive then changed[1] = 'active' end
redis.call('HSET', row, 'live:active', 'true', 'deadline', ARGV[1])
-- activeAt = max(old, new), a missing or non-numeric old value counting as 0.
local storedActiveAt = tonumber(redis.call('HGET', row, 'live:activeAt') or '')
if tonumber(ARGV[2]) > (storedActiveAt or 0) then
  redis.call('HSET', row, 'live:activeAt', ARGV[2])
elseif not storedActiveAt then
  redis.call('HSET', row, 'live:activeAt', '0')
end

-- The refresh owns these; callers' fields cannot override them.
local owned = {active = true, activeAt = true, lastBroadcastAt = true}
for i = 0, fieldCount - 1 do
  local name, value = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  if not owned[name] then
    if redis.call('HGET', row, 'live:' .. name) ~= value then changed[#changed + 1] = name end
    redis.call('HSET', row, 'live:' .. name, value)
  end
end

local quiet = {}
for i = 6 + 2 * fieldCount, #ARGV do quiet[ARGV[i]] = true end
local visibleChange = false
for _, name in ipairs(changed) do
  if not quiet[name] then visibleChange = true end
end
local lastBroadcastAt = tonumber(redis.call('HGET', row, 'live:lastBroadcastAt') or '')
local broadcastDue = becameActive or visibleChange or lastBroadcastAt == nil or now - lastBroadcastAt >= tonumber(ARGV[4])
if broadcastDue then redis.call('HSET', row, 'live:lastBroadcastAt', ARGV[3]) end

return {'ok', becameActive and 1 or 0, broadcastDue and 1 or 0, changed, redis.call('HGETALL', row)}
