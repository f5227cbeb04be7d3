import {
  CHANNEL_FIELDS,
  FEED_CHANNEL_FIELDS,
  FEED_FIELDS,
  HISTORY_FIELDS,
  LUA_STREAM_ID_AFTER,
  type JobstreamKeys,
  type RedisClient,
} from '@jobstream/runtime';
import type { RelayedEvent } from './map-bull-event.js';

/**
 * Appends a batch atomically: each event to its job's history (with the BullMQ entry id, so a
 * replayed batch cannot add an event twice), to its owner's user channel, a pointer to the live
 * feed (`j`/`i`, plus `c`/`ci` for the channel entry), and the new cursor.
 * It refuses to write unless the caller still holds the relay lock, so a relay that lost its
 * lease (paused process, network split) cannot write behind the new one.
 * The owner is read from the job hash's `data`, whose JSON starts with `{"owner":"..."` (see the
 * api's StoredJobData): an anchored match, not a decode of a payload of up to BODY_LIMIT_BYTES;
 * the job type is its `name`. Both are read once per job per batch. A job without an owner, or
 * whose hash is gone (removed after it finished), gets no channel entry.
 * Returns the number of events appended, or -1 when the lock is not held.
 */
const APPEND_SCRIPT = `
local cursorKey, lockKey, feedKey = KEYS[1], KEYS[2], KEYS[3]
if redis.call('GET', lockKey) ~= ARGV[1] then return -1 end
${LUA_STREAM_ID_AFTER}
local feedMaxLen, historyMaxLen, retentionMs, historyPrefix = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local jobPrefix, userChannelPrefix, channelMaxLen, channelRetentionMs = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local jobs = {}
local function owner_of(jobId)
  local cached = jobs[jobId]
  if cached ~= nil then return cached end
  local found = false
  local fields = redis.call('HMGET', jobPrefix .. jobId, 'data', 'name')
  if fields[1] then
    local raw = string.match(fields[1], '^{"owner":"(.-)","')
    if raw then
      local ok, owner = pcall(cjson.decode, '"' .. raw .. '"')
      if ok and type(owner) == 'string' and owner ~= '' then found = { owner = owner, jobType = fields[2] or '' } end
    end
  end
  jobs[jobId] = found
  return found
end
local cursor = redis.call('GET', cursorKey) or '0-0'
local appended = 0
local touched = {}
local touchedChannels = {}
for i = 11, #ARGV, 4 do
  local jobId, id = ARGV[i], ARGV[i + 1]
  if after(id, cursor) then
    local historyKey = historyPrefix .. jobId
    local added = redis.pcall('XADD', historyKey, 'MAXLEN', historyMaxLen, id, '${HISTORY_FIELDS.event}', ARGV[i + 2], '${HISTORY_FIELDS.data}', ARGV[i + 3])
    if type(added) ~= 'table' then
      touched[historyKey] = true
      local job = owner_of(jobId)
      if job then
        local channel = userChannelPrefix .. job.owner .. ':events'
        local channelId = redis.call('XADD', channel, 'MAXLEN', '~', channelMaxLen, '*',
          '${CHANNEL_FIELDS.event}', 'job.' .. ARGV[i + 2], '${CHANNEL_FIELDS.data}', ARGV[i + 3], '${CHANNEL_FIELDS.jobType}', job.jobType)
        touchedChannels[channel] = true
        redis.call('XADD', feedKey, 'MAXLEN', '~', feedMaxLen, '*', '${FEED_FIELDS.jobId}', jobId, '${FEED_FIELDS.historyId}', id,
          '${FEED_CHANNEL_FIELDS.channel}', 'u:' .. job.owner, '${FEED_CHANNEL_FIELDS.channelId}', channelId)
      else
        redis.call('XADD', feedKey, 'MAXLEN', '~', feedMaxLen, '*', '${FEED_FIELDS.jobId}', jobId, '${FEED_FIELDS.historyId}', id)
      end
      appended = appended + 1
    end
  end
end
for historyKey in pairs(touched) do redis.call('PEXPIRE', historyKey, retentionMs) end
for channel in pairs(touchedChannels) do redis.call('PEXPIRE', channel, channelRetentionMs) end
if after(ARGV[2], cursor) then redis.call('SET', cursorKey, ARGV[2]) end
return appended
`;

export interface AppendLimits {
  feedMaxLen: number;
  historyMaxLen: number;
  retentionMs: number;
  /** Entries kept per user channel (NOTIFICATION_STREAM_MAX_LEN, approximate trimming). */
  channelMaxLen: number;
  /** An idle user channel expires after this long (NOTIFICATION_RETENTION_SECONDS). */
  channelRetentionMs: number;
}

type ScriptClient = RedisClient & {
  jobstreamAppend(...args: (string | number)[]): Promise<number>;
};

/** Registers the script on the client (once) and returns a function that runs it. */
export function createAppender(redis: RedisClient, keys: JobstreamKeys, limits: AppendLimits) {
  if (!('jobstreamAppend' in redis)) redis.defineCommand('jobstreamAppend', { numberOfKeys: 3, lua: APPEND_SCRIPT });
  const client = redis as ScriptClient;
  return async (lockToken: string, newCursor: string, events: RelayedEvent[]): Promise<number> => {
    const args: (string | number)[] = [
      keys.relayCursor,
      keys.relayLock,
      keys.feed,
      lockToken,
      newCursor,
      limits.feedMaxLen,
      limits.historyMaxLen,
      limits.retentionMs,
      keys.historyPrefix,
      keys.job(''),
      keys.userChannelPrefix,
      limits.channelMaxLen,
      limits.channelRetentionMs,
    ];
    for (const e of events) args.push(e.jobId, e.id, e.event, JSON.stringify(e.data));
    return client.jobstreamAppend(...args);
  };
}
