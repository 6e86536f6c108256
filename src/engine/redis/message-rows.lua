-- Prelude shared by the message scripts (prepended when the scripts are loaded).
-- One session's messages live in one hash (KEYS[1]):
--   r:<seq>:id, r:<seq>:lid, r:<seq>:ca (createdAt), r:<seq>:ia (invokedAt, absent = null),
--   r:<seq>:c (content), r:<seq>:p (position member), r:<seq>:b (bytes the row counts against
--   the history quota; absent = 0), id:<id> -> seq, lid:<localId> -> seq,
--   last (last seq handed out), epoch
-- plus three zsets: seqs (score seq), positions (score 0, member '<at>:<seq>'), queue (score seq).
local rows = KEYS[1]

local function col(seq, column)
  return 'r:' .. seq .. ':' .. column
end

-- A row as {seq, id, localId, createdAt, invokedAt, content}; false when absent.
local function readRow(seq)
  local v = redis.call('HMGET', rows, col(seq, 'id'), col(seq, 'lid'), col(seq, 'ca'), col(seq, 'ia'), col(seq, 'c'))
  if not v[1] then return false end
  return {tostring(seq), v[1], v[2], v[3], v[4], v[5]}
end

local function readRows(seqs)
  local out = {}
  for _, seq in ipairs(seqs) do
    local row = readRow(seq)
    if row then out[#out + 1] = row end
  end
  return out
end

local function positionMember(atKey, seq)
  return atKey .. ':' .. string.format('%016d', tonumber(seq))
end

-- The seq part of a position member, unpadded (as used in field names).
local function seqOfPosition(member)
  return tostring(tonumber(string.sub(member, 18)))
end

-- Removes a row and its index entries; returns its counted bytes (r:<seq>:b, absent = 0).
local function removeRow(seq, seqsKey, positionsKey, queueKey)
  local v = redis.call('HMGET', rows, col(seq, 'id'), col(seq, 'lid'), col(seq, 'p'), col(seq, 'b'))
  redis.call('HDEL', rows, col(seq, 'id'), col(seq, 'lid'), col(seq, 'ca'), col(seq, 'ia'), col(seq, 'c'), col(seq, 'p'), col(seq, 'b'))
  if v[1] and redis.call('HGET', rows, 'id:' .. v[1]) == tostring(seq) then redis.call('HDEL', rows, 'id:' .. v[1]) end
  if v[2] and redis.call('HGET', rows, 'lid:' .. v[2]) == tostring(seq) then redis.call('HDEL', rows, 'lid:' .. v[2]) end
  if v[3] then redis.call('ZREM', positionsKey, v[3]) end
  redis.call('ZREM', seqsKey, seq)
  redis.call('ZREM', queueKey, seq)
  return tonumber(v[4] or '0')
end
