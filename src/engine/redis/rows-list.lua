-- All rows of a namespace's session or machine list, in creation order, in one round trip.
-- KEYS[1] list zset   ARGV[1] row key prefix (rows share the list's slot)
-- Returns an array of HGETALL replies.
local rows = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local row = redis.call('HGETALL', ARGV[1] .. id)
  if #row > 0 then rows[#rows + 1] = row end
end
return rows
