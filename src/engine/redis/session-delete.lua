-- Deletes a session row with its tag index entry and its messages. Its presence deadline lives in
-- the row, so it goes too; a leftover entry in the global deadline index is dropped by the sweep.
-- KEYS[1] session hash   KEYS[2] session-tags hash   KEYS[3] sessions zset
-- KEYS[4..7] message hash, seqs, positions, queue
-- ARGV[1] session id
-- Returns 1 when deleted, 0 when there was nothing to delete.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local tag = redis.call('HGET', KEYS[1], 'tag')
if tag and redis.call('HGET', KEYS[2], tag) == ARGV[1] then redis.call('HDEL', KEYS[2], tag) end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('UNLINK', KEYS[1], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
return 1
