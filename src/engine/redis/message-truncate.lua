-- Rewind: removes the row with a localId and every row at or after its position, appends the
-- replacement rows (new seqs), bumps the epoch. One script, so no reader sees half a rewrite.
-- KEYS[1] message hash   KEYS[2] seqs   KEYS[3] positions   KEYS[4] queue
-- ARGV[1] localId of the first row to remove
-- then 7 per replacement row: id, localId ('' = none), createdAt, invokedAt ('' = null),
-- sortable key of the row's time, content, bytes it counts against the history quota
-- Returns {'not-found'} | {'ok', deleted, inserted, epoch, deletedBytes, insertedBytes}
local target = redis.call('HGET', rows, 'lid:' .. ARGV[1])
if not target then return {'not-found'} end
local from = redis.call('HGET', rows, col(target, 'p'))
local doomed = redis.call('ZRANGEBYLEX', KEYS[3], '[' .. from, '+')
local deletedBytes = 0
for _, member in ipairs(doomed) do
  deletedBytes = deletedBytes + removeRow(seqOfPosition(member), KEYS[2], KEYS[3], KEYS[4])
end

local inserted, insertedBytes = 0, 0
for i = 2, #ARGV, 7 do
  local id, localId, createdAt, invokedAt, atKey, content, bytes = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local taken = redis.call('HEXISTS', rows, 'id:' .. id) == 1
    or (localId ~= '' and redis.call('HEXISTS', rows, 'lid:' .. localId) == 1)
  if not taken then
    local seq = redis.call('HINCRBY', rows, 'last', 1)
    local position = positionMember(atKey, seq)
    redis.call('HSET', rows, col(seq, 'id'), id, col(seq, 'ca'), createdAt, col(seq, 'c'), content, col(seq, 'p'), position, col(seq, 'b'), bytes, 'id:' .. id, seq)
    if localId ~= '' then redis.call('HSET', rows, col(seq, 'lid'), localId, 'lid:' .. localId, seq) end
    if invokedAt ~= '' then
      redis.call('HSET', rows, col(seq, 'ia'), invokedAt)
    elseif localId ~= '' then
      redis.call('ZADD', KEYS[4], seq, seq)
    end
    redis.call('ZADD', KEYS[2], seq, seq)
    redis.call('ZADD', KEYS[3], 0, position)
    inserted = inserted + 1
    insertedBytes = insertedBytes + tonumber(bytes)
  end
end
local epoch = redis.call('HINCRBY', rows, 'epoch', 1)
return {'ok', #doomed, inserted, epoch, deletedBytes, insertedBytes}
