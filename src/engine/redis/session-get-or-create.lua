-- Resolves (namespace, tag[, id]) to one session, creating it if absent: tag lookup, id check and
-- insert are one step, so concurrent calls with the same tag create exactly one session. Every key
-- is in the namespace's slot: ids are per namespace.
-- KEYS[1] session-tags hash   KEYS[2] sessions zset   KEYS[3] counters hash
-- KEYS[4] hash of the session with the candidate id
-- ARGV[1] session key prefix (the session a tag points to is found through it; same slot)
-- ARGV[2] tag   ARGV[3] candidate id   ARGV[4] '1' when the caller chose the id
-- ARGV[5..] field/value pairs of the row to create
-- Returns {'found', row} | {'created', row} | {'tag-bound-to-other-id'}
--       | {'id-bound-to-other-session'}
local tag, id, idGiven = ARGV[2], ARGV[3], ARGV[4] == '1'

local boundId = redis.call('HGET', KEYS[1], tag)
if boundId then
  local boundKey = ARGV[1] .. boundId
  if redis.call('EXISTS', boundKey) == 1 then
    if idGiven and boundId ~= id then return {'tag-bound-to-other-id'} end
    return {'found', redis.call('HGETALL', boundKey)}
  end
end

if redis.call('EXISTS', KEYS[4]) == 1 then
  if redis.call('HGET', KEYS[4], 'tag') ~= tag then return {'id-bound-to-other-session'} end
  -- Same id and tag but no index entry (cannot happen through this script): repair the index.
  redis.call('HSET', KEYS[1], tag, id)
  return {'found', redis.call('HGETALL', KEYS[4])}
end

redis.call('HSET', KEYS[4], unpack(ARGV, 5))
redis.call('HSET', KEYS[1], tag, id)
redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[3], 'sessions', 1), id)
return {'created', redis.call('HGETALL', KEYS[4])}
