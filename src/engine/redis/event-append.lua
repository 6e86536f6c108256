-- Appends one event to a namespace's log (appendToEventLog, in the prelude).
-- KEYS[1] event-log state hash   KEYS[2] event list
-- ARGV[1] event JSON   ARGV[2] max events   ARGV[3] max bytes   ARGV[4] epoch if none yet
-- ARGV[5] pub/sub channel   ARGV[6] encoded namespace
-- Returns {epoch, offset}
local epoch, offset = appendToEventLog(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6])
return {epoch, offset}
