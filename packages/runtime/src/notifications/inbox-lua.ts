/**
 * Lua shared by the inbox scripts. An inbox is three keys: `all` and `unread`, sorted sets whose
 * members are notification ids with score 0 (ids sort by creation time, so lexicographic ranges
 * are time ranges), and `data`, a hash of id to JSON. Work is done in chunks: `unpack` of a
 * very long list would overflow Lua's stack.
 */
export const LUA_INBOX = `
local CHUNK = 500
local function remove_items(all, unread, data, ids)
  redis.call('ZREM', all, unpack(ids))
  redis.call('HDEL', data, unpack(ids))
  return redis.call('ZREM', unread, unpack(ids))
end
-- Drops items made before the bound (older than the retention); returns how many were unread.
local function prune(all, unread, data, bound)
  local unreadRemoved = 0
  while true do
    local ids = redis.call('ZRANGE', all, '-', '(' .. bound, 'BYLEX', 'LIMIT', 0, CHUNK)
    if #ids == 0 then break end
    unreadRemoved = unreadRemoved + remove_items(all, unread, data, ids)
  end
  return unreadRemoved
end
-- Drops the oldest items beyond the cap; returns how many were unread.
local function cap(all, unread, data, maxItems)
  local unreadRemoved = 0
  local excess = redis.call('ZCARD', all) - maxItems
  while excess > 0 do
    local ids = redis.call('ZRANGE', all, 0, math.min(excess, CHUNK) - 1)
    unreadRemoved = unreadRemoved + remove_items(all, unread, data, ids)
    excess = excess - #ids
  end
  return unreadRemoved
end
local function unread_count_json(count, timestamp)
  return '{"count":' .. count .. ',"timestamp":"' .. timestamp .. '"}'
end
`;
