-- Creates a machine row if absent; never merges into an existing one.
-- KEYS[1] machine hash   KEYS[2] machines zset   KEYS[3] counters hash
-- ARGV[1] machine id   ARGV[2..] field/value pairs of the row to create
-- Returns {'found', row} | {'created', row}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'found', redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[3], 'machines', 1), ARGV[1])
return {'created', redis.call('HGETALL', KEYS[1])}
