-- Deletes one message by server id and bumps the epoch (pages clients hold are now stale).
-- KEYS[1] message hash   KEYS[2] seqs   KEYS[3] positions   KEYS[4] queue
-- ARGV[1] message id
-- Returns 1 when deleted, 0 when unknown.
local seq = redis.call('HGET', rows, 'id:' .. ARGV[1])
if not seq then return 0 end
removeRow(seq, KEYS[2], KEYS[3], KEYS[4])
redis.call('HINCRBY', rows, 'epoch', 1)
return 1
