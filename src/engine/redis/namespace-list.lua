-- Every namespace record in one round trip.
-- KEYS[1] namespace names set   ARGV[1] record key prefix (same slot: the registry hash tag)
-- Returns an array of HGETALL replies.
local records = {}
for _, encoded in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local record = redis.call('HGETALL', ARGV[1] .. encoded)
  if #record > 0 then records[#records + 1] = record end
end
return records
