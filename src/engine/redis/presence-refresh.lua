-- One keep-alive: store the deadline, mark active, merge live fields, and decide whether the
-- caller should announce the new state (became active, visible change, or throttle elapsed).
-- Live values are JSON scalars; equal values have equal JSON text, so strings are compared.
--
-- The sweeper finds deadlines through a global index (another Cluster slot, written by the
-- caller). The index may be early but never missing for a row with a deadline, so:
-- - a row without a deadline (new or inactive) is only activated when the caller says it has
--   just indexed this deadline (ARGV[5] = 1); otherwise nothing changes and 'index-needed' is
--   returned, and the caller indexes first and retries;
-- - a row that already has a deadline already has an (earlier) entry: the refresh goes ahead
--   without the caller touching the index, and asks for a re-index once half the time to live
--   has passed since the last one, so a live row's entry rarely falls due at all.
-- KEYS[1] session or machine hash   KEYS[2] (sessions) the session's queued-prompt zset
-- ARGV[1] deadline   ARGV[2] activeAt   ARGV[3] now   ARGV[4] broadcast throttle (ms)
-- ARGV[5] 1 when the caller indexed ARGV[1] just before this call, else 0
-- ARGV[6] n = number of live fields, then n name/value pairs, then the quiet field names
-- Returns {'not-found'} | {'index-needed'}
--       | {'ok', becameActive 0|1, broadcastDue 0|1, {changed...}, {live name/value...}, queued, reindexDue 0|1}
local row = KEYS[1]
local now, deadline = tonumber(ARGV[3]), tonumber(ARGV[1])
local indexed = ARGV[5] == '1'
local stored = redis.call('HMGET', row, 'deadline', 'indexedAt', 'live:active', 'live:activeAt', 'live:lastBroadcastAt')
if stored[1] == false and redis.call('EXISTS', row) == 0 then return {'not-found'} end
if stored[1] == false and not indexed then return {'index-needed'} end

-- indexedAt: when the caller last wrote (or was asked to write) this row's index entry.
local reindexDue = not indexed and now - (tonumber(stored[2] or '') or 0) >= (deadline - now) / 2
if indexed or reindexDue then redis.call('HSET', row, 'indexedAt', ARGV[3]) end

local becameActive = stored[3] ~= 'true'
local changed = {}
if becameActive then changed[1] = 'active' end
redis.call('HSET', row, 'live:active', 'true', 'deadline', ARGV[1])
-- activeAt = max(old, new), a missing or non-numeric old value counting as 0.
local storedActiveAt = tonumber(stored[4] or '')
if tonumber(ARGV[2]) > (storedActiveAt or 0) then
  redis.call('HSET', row, 'live:activeAt', ARGV[2])
elseif not storedActiveAt then
  redis.call('HSET', row, 'live:activeAt', '0')
end

-- The refresh owns these; callers' fields cannot override them.
local owned = {active = true, activeAt = true, lastBroadcastAt = true}
local fieldCount = tonumber(ARGV[6])
for i = 0, fieldCount - 1 do
  local name, value = ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  if not owned[name] then
    if redis.call('HGET', row, 'live:' .. name) ~= value then
      changed[#changed + 1] = name
      redis.call('HSET', row, 'live:' .. name, value)
    end
  end
end

local quiet = {}
for i = 7 + 2 * fieldCount, #ARGV do quiet[ARGV[i]] = true end
local visibleChange = false
for _, name in ipairs(changed) do
  if not quiet[name] then visibleChange = true end
end
local lastBroadcastAt = tonumber(stored[5] or '')
local broadcastDue = becameActive or visibleChange or lastBroadcastAt == nil or now - lastBroadcastAt >= tonumber(ARGV[4])
if broadcastDue then redis.call('HSET', row, 'live:lastBroadcastAt', ARGV[3]) end

-- Only the live fields go back (not the row's metadata and agent state).
local live = {}
local all = redis.call('HGETALL', row)
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 5) == 'live:' then
    live[#live + 1] = string.sub(all[i], 6)
    live[#live + 1] = all[i + 1]
  end
end
local queued = 0
if KEYS[2] then queued = redis.call('ZCARD', KEYS[2]) end
return {'ok', becameActive and 1 or 0, broadcastDue and 1 or 0, changed, live, queued, reindexDue and 1 or 0}
