/**
 * Where a job's history lives, for the Lua scripts that write and read it. While a job runs, its
 * history is a stream (`keys.history`). When it finishes, the relay packs that stream into one
 * field of the job's hash (JOB_HISTORY_FIELD) and deletes it: a stream of a few entries costs
 * about 860 bytes in Redis (key, stream object, radix tree, listpack, expiry), the same entries in
 * a hash field about a third of that, and the field goes when BullMQ removes the job. A history
 * larger than HISTORY_PACK_MAX_BYTES stays a stream (its overhead is small beside its entries, and
 * readers decode a packed history whole). A finished job that is retried gets a new stream for its
 * new events, packed onto the old ones when it finishes again. Readers see one history: the
 * packed entries, then the stream's, with the bounds of both together in the shape of an
 * `XINFO STREAM` reply, so the coverage rule (`isCursorCovered`) reads them as it reads a stream's.
 *
 * Packed value (cjson): `{ "b": [lastGeneratedId, maxDeletedId, entriesAdded], "e": [[id, name,
 * value, ...], ...] }`, oldest entry first.
 */

/** The job hash field that holds a finished job's packed history. */
export const JOB_HISTORY_FIELD = 'jsh';

/** A history of more bytes than this (ids, field names and values) is kept as a stream when its job finishes. */
export const HISTORY_PACK_MAX_BYTES = 8_192;

/**
 * Lua functions over a job's history (needs `after` from LUA_STREAM_ID_AFTER before it):
 * - `history_packed(jobKey)`: the packed history, or nil;
 * - `history_range(historyKey, packed, lo, hi, count, rev)`: its entries from `lo` to `hi`
 *   (XRANGE bounds: `-`, `+`, `id`, `(id`), oldest first or newest first when `rev`, at most
 *   `count` (0: all), as XRANGE returns entries;
 * - `history_info(historyKey, packed)`: its bounds as an XINFO STREAM reply, false when there is none;
 * - `history_pack(historyKey, jobKey, maxBytes, maxLen)`: packs the stream into the job hash (see
 *   above) and deletes it; false when it did not (no job hash, no stream, or too large).
 */
export const LUA_JOB_HISTORY = `
local function history_in(id, lo, hi)
  if lo ~= '-' then
    if string.sub(lo, 1, 1) == '(' then
      if not after(id, string.sub(lo, 2)) then return false end
    elseif after(lo, id) then return false end
  end
  if hi ~= '+' then
    if string.sub(hi, 1, 1) == '(' then
      if not after(string.sub(hi, 2), id) then return false end
    elseif after(id, hi) then return false end
  end
  return true
end
local function history_packed(jobKey)
  local raw = redis.pcall('HGET', jobKey, '${JOB_HISTORY_FIELD}')
  if type(raw) ~= 'string' then return nil end
  return cjson.decode(raw)
end
local function history_entry(e)
  local fields = {}
  for i = 2, #e do fields[i - 1] = e[i] end
  return { e[1], fields }
end
local function history_range(historyKey, packed, lo, hi, count, rev)
  local out = {}
  local function take(rows)
    for _, row in ipairs(rows) do
      if count == 0 or #out < count then out[#out + 1] = row end
    end
  end
  local function from_packed()
    if not packed then return end
    local e = packed.e
    local first, last, step = 1, #e, 1
    if rev then first, last, step = #e, 1, -1 end
    for i = first, last, step do
      if count > 0 and #out >= count then return end
      if history_in(e[i][1], lo, hi) then out[#out + 1] = history_entry(e[i]) end
    end
  end
  local function from_stream()
    if count > 0 and #out >= count then return end
    local args = rev and { 'XREVRANGE', historyKey, hi, lo } or { 'XRANGE', historyKey, lo, hi }
    if count > 0 then
      args[5] = 'COUNT'
      args[6] = count - #out
    end
    take(redis.call(unpack(args)))
  end
  if rev then
    from_stream()
    from_packed()
  else
    from_packed()
    from_stream()
  end
  return out
end
local function history_info_field(info, name)
  for i = 1, #info, 2 do
    if info[i] == name then return info[i + 1] end
  end
  return nil
end
local function history_stream_info(historyKey)
  local info = redis.pcall('XINFO', 'STREAM', historyKey)
  if type(info) ~= 'table' or info.err then return nil end
  return info
end
local function history_info(historyKey, packed)
  local info = history_stream_info(historyKey)
  if not packed then return info or false end
  local e = packed.e
  local length, lastId, deleted, added = #e, packed.b[1], packed.b[2], tonumber(packed.b[3])
  local first, last = false, false
  if #e > 0 then
    first = history_entry(e[1])
    last = history_entry(e[#e])
  end
  if info then
    length = length + history_info_field(info, 'length')
    lastId = history_info_field(info, 'last-generated-id')
    local streamDeleted = history_info_field(info, 'max-deleted-entry-id')
    if after(streamDeleted, deleted) then deleted = streamDeleted end
    added = added + history_info_field(info, 'entries-added')
    last = history_info_field(info, 'last-entry') or last
    if not first then first = history_info_field(info, 'first-entry') or false end
  end
  local firstId = first and first[1] or lastId
  return { 'length', length, 'last-generated-id', lastId, 'max-deleted-entry-id', deleted, 'entries-added', added,
    'recorded-first-entry-id', firstId, 'first-entry', first, 'last-entry', last }
end
local function history_pack(historyKey, jobKey, maxBytes, maxLen)
  if redis.call('EXISTS', jobKey) == 0 then return false end
  local info = history_stream_info(historyKey)
  if not info then return false end
  local packed = history_packed(jobKey) or { b = { '0-0', '0-0', 0 }, e = {} }
  local entries = packed.e
  for _, row in ipairs(redis.call('XRANGE', historyKey, '-', '+')) do
    local e = { row[1] }
    for i, v in ipairs(row[2]) do e[i + 1] = v end
    entries[#entries + 1] = e
  end
  if #entries == 0 then return false end
  local drop = #entries - maxLen
  if drop > 0 then
    local kept = {}
    for i = drop + 1, #entries do kept[#kept + 1] = entries[i] end
    entries = kept
  end
  local size = 0
  for _, e in ipairs(entries) do
    for i = 1, #e do size = size + #e[i] end
    if size > maxBytes then return false end
  end
  local deleted = packed.b[2]
  local streamDeleted = history_info_field(info, 'max-deleted-entry-id')
  if after(streamDeleted, deleted) then deleted = streamDeleted end
  local added = tonumber(packed.b[3]) + history_info_field(info, 'entries-added')
  local value = cjson.encode({ b = { history_info_field(info, 'last-generated-id'), deleted, added }, e = entries })
  redis.call('HSET', jobKey, '${JOB_HISTORY_FIELD}', value)
  redis.call('DEL', historyKey)
  return true
end
`;
