-- A batch of keep-alives, applied in order (one namespace, so one Cluster slot). Each one stores
-- the deadline, marks active, merges live fields, and decides whether the caller should announce
-- the new state (became active, visible change, or throttle elapsed). A batch of one is the
-- single keep-alive; a batch gives every item exactly the outcome it would get alone, in order.
-- Live values are JSON scalars; equal values have equal JSON text, so strings are compared.
--
-- The sweeper finds deadlines through a global index (other Cluster slots, written by the
-- caller). The index may be early but never missing for a row with a deadline, so:
-- - a row without a deadline (new or inactive) is only activated when the caller says it has
--   just indexed this deadline (indexed = 1); otherwise nothing changes and 'index-needed' is
--   returned, and the caller indexes first and retries that item;
-- - a row that already has a deadline already has an (earlier) entry: the refresh goes ahead
--   without the caller touching the index, and asks for a re-index once half the time to live
--   has passed since the last one, so a live row's entry rarely falls due at all.
-- KEYS: per item, the session or machine hash, then (sessions) the session's queued-prompt zset
-- ARGV[1] n = number of items; then per item:
--   hasQueue 0|1, deadline, activeAt, now, broadcast throttle (ms), indexed 0|1,
--   f = number of live fields, f name/value pairs, q = number of quiet field names, q names
-- Returns one reply per item: {'not-found'} | {'index-needed'}
--   | {'ok', becameActive 0|1, broadcastDue 0|1, {changed...}, {live name/value...}, queued, reindexDue 0|1}

-- The refresh owns these; callers' fields cannot override them.
local owned = {active = true, activeAt = true, lastBroadcastAt = true}

local function refreshOne(row, queue, a, fieldCount, fieldsAt, quiet)
  local deadlineText, activeAtText, nowText = a[1], a[2], a[3]
  local now, deadline = tonumber(nowText), tonumber(deadlineText)
  local throttle, indexed = tonumber(a[4]), a[5] == '1'
  -- One read of the whole row serves every comparison below and the live fields returned: a
  -- call per field (HMGET, an HGET per live field, HGETALL) cost Redis more than the data.
  local all = redis.call('HGETALL', row)
  if #all == 0 then return {'not-found'} end
  local hash, names = {}, {}
  for i = 1, #all, 2 do
    hash[all[i]] = all[i + 1]
    names[#names + 1] = all[i]
  end
  local stored = {hash['deadline'] or false, hash['indexedAt'], hash['live:active'], hash['live:activeAt'], hash['live:lastBroadcastAt']}
  if stored[1] == false and not indexed then return {'index-needed'} end

  -- indexedAt: when the caller last wrote (or was asked to write) this row's index entry.
  local reindexDue = not indexed and now - (tonumber(stored[2] or '') or 0) >= (deadline - now) / 2
  local writes = {'live:active', 'true', 'deadline', deadlineText}
  if indexed or reindexDue then
    writes[#writes + 1] = 'indexedAt'
    writes[#writes + 1] = nowText
  end

  local becameActive = stored[3] ~= 'true'
  local changed = {}
  if becameActive then changed[1] = 'active' end
  -- activeAt = max(old, new), a missing or non-numeric old value counting as 0.
  local storedActiveAt = tonumber(stored[4] or '')
  if tonumber(activeAtText) > (storedActiveAt or 0) then
    writes[#writes + 1] = 'live:activeAt'
    writes[#writes + 1] = activeAtText
  elseif not storedActiveAt then
    writes[#writes + 1] = 'live:activeAt'
    writes[#writes + 1] = '0'
  end

  local visibleChange = false
  for i = 0, fieldCount - 1 do
    local name, value = ARGV[fieldsAt + 2 * i], ARGV[fieldsAt + 1 + 2 * i]
    if not owned[name] then
      if hash['live:' .. name] ~= value then
        changed[#changed + 1] = name
        if not quiet[name] then visibleChange = true end
        writes[#writes + 1] = 'live:' .. name
        writes[#writes + 1] = value
      end
    end
  end
  if becameActive then visibleChange = true end

  local lastBroadcastAt = tonumber(stored[5] or '')
  local broadcastDue = visibleChange or lastBroadcastAt == nil or now - lastBroadcastAt >= throttle
  if broadcastDue then
    writes[#writes + 1] = 'live:lastBroadcastAt'
    writes[#writes + 1] = nowText
  end
  redis.call('HSET', row, unpack(writes))
  for i = 1, #writes, 2 do
    if hash[writes[i]] == nil then names[#names + 1] = writes[i] end
    hash[writes[i]] = writes[i + 1]
  end

  -- Only the live fields go back (not the row's metadata and agent state).
  local live = {}
  for _, name in ipairs(names) do
    if string.sub(name, 1, 5) == 'live:' then
      live[#live + 1] = string.sub(name, 6)
      live[#live + 1] = hash[name]
    end
  end
  local queued = 0
  if queue then queued = redis.call('ZCARD', queue) end
  return {'ok', becameActive and 1 or 0, broadcastDue and 1 or 0, changed, live, queued, reindexDue and 1 or 0}
end

local replies = {}
local keyAt, at = 1, 2
for item = 1, tonumber(ARGV[1]) do
  local row, queue = KEYS[keyAt], false
  if ARGV[at] == '1' then queue = KEYS[keyAt + 1]; keyAt = keyAt + 2 else keyAt = keyAt + 1 end
  local a = {ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], ARGV[at + 5]}
  local fieldCount = tonumber(ARGV[at + 6])
  local fieldsAt = at + 7
  local quietAt = fieldsAt + 2 * fieldCount
  local quiet = {}
  for i = 1, tonumber(ARGV[quietAt]) do quiet[ARGV[quietAt + i]] = true end
  replies[item] = refreshOne(row, queue, a, fieldCount, fieldsAt, quiet)
  at = quietAt + 1 + tonumber(ARGV[quietAt])
end
return replies
