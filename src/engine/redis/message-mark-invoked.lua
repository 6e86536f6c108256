-- Stamps invokedAt on still-uninvoked rows with the given localIds (first write wins), moves
-- their position to invokedAt and takes them off the queue. Does not bump the epoch.
-- KEYS[1] message hash   KEYS[2] positions   KEYS[3] queue
-- ARGV[1] invokedAt   ARGV[2] sortable key of invokedAt   ARGV[3..] localIds
-- Returns the localIds that changed.
local changed, seen = {}, {}
for i = 3, #ARGV do
  local localId = ARGV[i]
  if not seen[localId] then
    seen[localId] = true
    local seq = redis.call('HGET', rows, 'lid:' .. localId)
    if seq and redis.call('HEXISTS', rows, col(seq, 'ia')) == 0 then
      local newPosition = positionMember(ARGV[2], seq)
      local oldPosition = redis.call('HGET', rows, col(seq, 'p'))
      if oldPosition then redis.call('ZREM', KEYS[2], oldPosition) end
      redis.call('ZADD', KEYS[2], 0, newPosition)
      redis.call('HSET', rows, col(seq, 'ia'), ARGV[1], col(seq, 'p'), newPosition)
      redis.call('ZREM', KEYS[3], seq)
      changed[#changed + 1] = localId
    end
  end
end
return changed
