-- Read-only queries over one session's messages; one script so each answer is a consistent
-- snapshot fetched in one round trip.
-- KEYS[1] message hash   KEYS[2] seqs   KEYS[3] positions   KEYS[4] queue
-- ARGV[1] query, then its arguments:
--   'after-seq' seq limit | 'before' bound limit | 'after' bound until('' = none) limit
--   'newest' limit | 'queued' | 'local-ids' id... | 'find' idOrLocalId | 'head'
-- Returns an array of rows ({seq, id, localId, createdAt, invokedAt, content}), ascending;
-- 'head' returns {seq, at} or {}.
local query = ARGV[1]

local function seqsOfPositions(members, reverse)
  local seqs = {}
  for i = 1, #members do
    local member = reverse and members[#members + 1 - i] or members[i]
    seqs[i] = seqOfPosition(member)
  end
  return seqs
end

if query == 'after-seq' then
  return readRows(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[2], '+inf', 'LIMIT', 0, ARGV[3]))
elseif query == 'before' then
  local members = redis.call('ZREVRANGEBYLEX', KEYS[3], '(' .. ARGV[2], '-', 'LIMIT', 0, ARGV[3])
  return readRows(seqsOfPositions(members, true))
elseif query == 'after' then
  local upper = ARGV[3] ~= '' and ('[' .. ARGV[3]) or '+'
  local members = redis.call('ZRANGEBYLEX', KEYS[3], '(' .. ARGV[2], upper, 'LIMIT', 0, ARGV[4])
  return readRows(seqsOfPositions(members, false))
elseif query == 'newest' then
  local members = redis.call('ZREVRANGE', KEYS[3], 0, tonumber(ARGV[2]) - 1)
  return readRows(seqsOfPositions(members, true))
elseif query == 'queued' then
  return readRows(redis.call('ZRANGE', KEYS[4], 0, -1))
elseif query == 'local-ids' then
  local seqs, seen = {}, {}
  for i = 2, #ARGV do
    local seq = redis.call('HGET', rows, 'lid:' .. ARGV[i])
    if seq and not seen[seq] then
      seen[seq] = true
      seqs[#seqs + 1] = tonumber(seq)
    end
  end
  table.sort(seqs)
  return readRows(seqs)
elseif query == 'find' then
  local seq = redis.call('HGET', rows, 'id:' .. ARGV[2]) or redis.call('HGET', rows, 'lid:' .. ARGV[2])
  if not seq then return {} end
  return readRows({seq})
elseif query == 'head' then
  local member = redis.call('ZREVRANGE', KEYS[3], 0, 0)[1]
  if not member then return {} end
  local seq = seqOfPosition(member)
  local times = redis.call('HMGET', rows, col(seq, 'ia'), col(seq, 'ca'))
  return {seq, times[1] or times[2]}
end
return redis.error_reply('unknown message query ' .. tostring(query))
