import {
  CHANNEL_FIELDS,
  FEED_CHANNEL_FIELDS,
  FEED_FIELDS,
  FEED_INLINE_MAX_BYTES,
  HISTORY_FIELDS,
  LUA_JOB_HISTORY,
  LUA_JOB_OWNER,
  LUA_STREAM_ID_AFTER,
  encodeHistoryData,
  userChannelRef,
  registerScript,
  type JobstreamKeys,
  type RedisClient,
} from '@jobstream/runtime';
import type { JobOwner } from './job-owners.js';
import type { RelayedEvent } from './map-bull-event.js';

/** Per-event flags: set the history's expiry, set the owner's channel's expiry, the job's last event. */
export const APPEND_FLAGS = { expireHistory: 'h', expireChannel: 'c', final: 'f' } as const;

const EVENT_ARGS = 9;

/**
 * Appends a batch atomically: each event to its job's history (with the BullMQ entry id, so a
 * replayed batch cannot add an event twice), to its owner's user channel, a pointer to the live
 * feed (`j`/`i`, plus `c`/`ci` for the channel entry), and the new cursor. The relay passes the
 * cursor it read after: with the lock held nobody else moves it, and should a reply be lost, the
 * batch sent again starts after the stored cursor, which that run moved (and an event's history
 * stream refuses an id not above its last one besides).
 * A feed entry carries the history entry's fields too when its data is small (FEED_INLINE_MAX_BYTES).
 * It refuses to write unless the caller still holds the relay lock, so a relay that lost its
 * lease (paused process, network split) cannot write behind the new one.
 * The relay passes each job's owner when it knows it; otherwise the script reads it from the job
 * hash (`job_owner`, once per job per batch) and returns what it found, for the relay to remember.
 * A job without an owner, or whose hash is gone (removed after it finished), gets no channel entry.
 * Expiries are set only where the relay asks (see ExpiryClock) and on a channel this script
 * creates (XADD NOMKSTREAM tells), so no key it makes is left without one.
 * A traced job's outcome carries the relay's span (`t`) in its history and channel entries.
 * A finished job's history is packed into its job hash (see history-lua.ts); one too large to pack
 * is copied through a scratch key instead: XADD gives a stream's newest node room for 4 KB, which a
 * history of a few entries never fills; COPY stores it at its size.
 * Every key comes from KEYS or from the prefixes and suffix `jobstreamKeys` gives (ARGV), all
 * under the queue's prefix, so with a hash tag they share one cluster slot.
 * Returns -1 when the lock is not held, else the number of events appended followed by the
 * owners it read (job id, owner, job type, ...).
 */
const APPEND_SCRIPT = `
local cursorKey, lockKey, feedKey, compactKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('GET', lockKey) ~= ARGV[1] then return -1 end
${LUA_STREAM_ID_AFTER}
${LUA_JOB_OWNER}
${LUA_JOB_HISTORY}
local feedMaxLen, historyMaxLen, retentionMs, historyPrefix = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local jobPrefix, channelPrefix, channelSuffix, userRefPrefix = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local channelMaxLen, channelRetentionMs, cursor, packMaxBytes = ARGV[11], ARGV[12], ARGV[13], tonumber(ARGV[14])
-- Past what an earlier run of this batch wrote, should its reply have been lost: the stored cursor
-- moved with it, and a history it packed into its job hash no longer refuses those ids itself.
local stored = redis.call('GET', cursorKey)
if stored and after(stored, cursor) then cursor = stored end
local reply = { 0 }
local jobs = {}
local function job_of(jobId, owner, jobType)
  if owner ~= '' then return { owner = owner, jobType = jobType } end
  local cached = jobs[jobId]
  if cached ~= nil then return cached end
  local found, foundType = job_owner(jobPrefix .. jobId)
  local job = false
  if found then
    job = { owner = found, jobType = foundType }
    reply[#reply + 1] = jobId
    reply[#reply + 1] = found
    reply[#reply + 1] = foundType
  end
  jobs[jobId] = job
  return job
end
local function has(flags, flag) return string.find(flags, flag, 1, true) ~= nil end
local appended = 0
local expireHistories, expireChannels, finished = {}, {}, {}
for i = 15, #ARGV, ${EVENT_ARGS} do
  local jobId, id, event, data, flags = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 7]
  if after(id, cursor) then
    local historyKey = historyPrefix .. jobId
    local stored, trace = ARGV[i + 4], ARGV[i + 8]
    local historyFields = { '${HISTORY_FIELDS.event}', event, '${HISTORY_FIELDS.data}', stored }
    if trace ~= '' then
      historyFields[5] = '${HISTORY_FIELDS.trace}'
      historyFields[6] = trace
    end
    local added = redis.pcall('XADD', historyKey, 'MAXLEN', historyMaxLen, id, unpack(historyFields))
    if type(added) ~= 'table' then
      if has(flags, '${APPEND_FLAGS.expireHistory}') then expireHistories[historyKey] = true end
      if has(flags, '${APPEND_FLAGS.final}') then finished[historyKey] = jobId end
      local feedFields = { '${FEED_FIELDS.jobId}', jobId, '${FEED_FIELDS.historyId}', id }
      if string.len(stored) <= ${FEED_INLINE_MAX_BYTES} then
        for f = 1, #historyFields do feedFields[4 + f] = historyFields[f] end
      end
      local job = job_of(jobId, ARGV[i + 5], ARGV[i + 6])
      if job then
        local channel = channelPrefix .. job.owner .. channelSuffix
        local channelFields = { '${CHANNEL_FIELDS.event}', 'job.' .. event, '${CHANNEL_FIELDS.data}', data, '${CHANNEL_FIELDS.jobType}', job.jobType }
        if ARGV[i + 8] ~= '' then
          channelFields[7] = '${CHANNEL_FIELDS.trace}'
          channelFields[8] = ARGV[i + 8]
        end
        local channelId = redis.call('XADD', channel, 'NOMKSTREAM', 'MAXLEN', '~', channelMaxLen, '*', unpack(channelFields))
        if not channelId then
          channelId = redis.call('XADD', channel, 'MAXLEN', '~', channelMaxLen, '*', unpack(channelFields))
          expireChannels[channel] = true
        elseif has(flags, '${APPEND_FLAGS.expireChannel}') then
          expireChannels[channel] = true
        end
        feedFields[#feedFields + 1] = '${FEED_CHANNEL_FIELDS.channel}'
        feedFields[#feedFields + 1] = userRefPrefix .. job.owner
        feedFields[#feedFields + 1] = '${FEED_CHANNEL_FIELDS.channelId}'
        feedFields[#feedFields + 1] = channelId
      end
      redis.call('XADD', feedKey, 'MAXLEN', '~', feedMaxLen, '*', unpack(feedFields))
      appended = appended + 1
    end
  end
end
for historyKey, jobId in pairs(finished) do
  if not history_pack(historyKey, jobPrefix .. jobId, packMaxBytes, tonumber(historyMaxLen)) then
    redis.call('COPY', historyKey, compactKey, 'REPLACE')
    redis.call('RENAME', compactKey, historyKey)
    expireHistories[historyKey] = true
  end
end
for historyKey in pairs(expireHistories) do redis.call('PEXPIRE', historyKey, retentionMs) end
for channel in pairs(expireChannels) do redis.call('PEXPIRE', channel, channelRetentionMs) end
redis.call('SET', cursorKey, ARGV[2])
reply[1] = appended
return reply
`;

export interface AppendLimits {
  feedMaxLen: number;
  historyMaxLen: number;
  retentionMs: number;
  /** Entries kept per user channel (NOTIFICATION_STREAM_MAX_LEN, approximate trimming). */
  channelMaxLen: number;
  /** An idle user channel expires after this long (NOTIFICATION_RETENTION_SECONDS). */
  channelRetentionMs: number;
  /** A finished job's history of at most this many bytes is packed into its job hash (RELAY_HISTORY_PACK_MAX_BYTES; 0: never). */
  historyPackMaxBytes: number;
}

/** One event to append, with its owner when the relay knows it and its flags (APPEND_FLAGS). */
export interface AppendEvent {
  event: RelayedEvent;
  owner: JobOwner | undefined;
  flags: string;
  /** The relay's span for a traced job's outcome, stored with its history and channel entries for the api's delivery spans. */
  traceparent?: string | undefined;
}

export interface AppendResult {
  appended: number;
  /** Owners the script read from job hashes. */
  found: Map<string, JobOwner>;
}

type ScriptClient = RedisClient & {
  jobstreamAppend(...args: (string | number)[]): Promise<number | (number | string)[]>;
};

const defineAppend = registerScript('jobstreamAppend', { numberOfKeys: 4, lua: APPEND_SCRIPT });

/** Registers the script on the client (once) and returns a function that runs it; undefined when the lock is not held. */
export function createAppender(redis: RedisClient, keys: JobstreamKeys, limits: AppendLimits) {
  defineAppend(redis);
  const client = redis as ScriptClient;
  return async (lockToken: string, cursor: string, newCursor: string, events: AppendEvent[]): Promise<AppendResult | undefined> => {
    const args: (string | number)[] = [
      keys.relayCursor,
      keys.relayLock,
      keys.feed,
      keys.relayCompact,
      lockToken,
      newCursor,
      limits.feedMaxLen,
      limits.historyMaxLen,
      limits.retentionMs,
      keys.historyPrefix,
      keys.job(''),
      keys.userChannelPrefix,
      keys.userChannelSuffix,
      userChannelRef(''),
      limits.channelMaxLen,
      limits.channelRetentionMs,
      cursor,
      limits.historyPackMaxBytes,
    ];
    for (const { event: e, owner, flags, traceparent } of events) {
      args.push(e.jobId, e.id, e.event, JSON.stringify(e.data), encodeHistoryData(e.data), owner?.owner ?? '', owner?.jobType ?? '', flags, traceparent ?? '');
    }
    const reply = await client.jobstreamAppend(...args);
    if (!Array.isArray(reply)) return undefined;
    const found = new Map<string, JobOwner>();
    for (let i = 1; i + 2 < reply.length; i += 3) {
      found.set(String(reply[i]), { owner: String(reply[i + 1]), jobType: String(reply[i + 2]) });
    }
    return { appended: Number(reply[0]), found };
  };
}
