import { FEED_FIELDS, HISTORY_FIELDS, LUA_STREAM_ID_AFTER, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';
import type { RelayedEvent } from './map-bull-event.js';

/**
 * Appends a batch atomically: each event to its job's history (with the BullMQ entry id, so a
 * replayed batch cannot add an event twice), a pointer to the live feed, and the new cursor.
 * It refuses to write unless the caller still holds the relay lock, so a relay that lost its
 * lease (paused process, network split) cannot write behind the new one.
 * Returns the number of events appended, or -1 when the lock is not held.
 */
const APPEND_SCRIPT = `
local cursorKey, lockKey, feedKey = KEYS[1], KEYS[2], KEYS[3]
if redis.call('GET', lockKey) ~= ARGV[1] then return -1 end
${LUA_STREAM_ID_AFTER}
local cursor = redis.call('GET', cursorKey) or '0-0'
local appended = 0
local touched = {}
for i = 7, #ARGV, 4 do
  local jobId, id = ARGV[i], ARGV[i + 1]
  if after(id, cursor) then
    local historyKey = ARGV[6] .. jobId
    local added = redis.pcall('XADD', historyKey, 'MAXLEN', ARGV[4], id, '${HISTORY_FIELDS.event}', ARGV[i + 2], '${HISTORY_FIELDS.data}', ARGV[i + 3])
    if type(added) ~= 'table' then
      touched[historyKey] = true
      redis.call('XADD', feedKey, 'MAXLEN', '~', ARGV[3], '*', '${FEED_FIELDS.jobId}', jobId, '${FEED_FIELDS.historyId}', id)
      appended = appended + 1
    end
  end
end
for historyKey in pairs(touched) do redis.call('PEXPIRE', historyKey, ARGV[5]) end
if after(ARGV[2], cursor) then redis.call('SET', cursorKey, ARGV[2]) end
return appended
`;

export interface AppendLimits {
  feedMaxLen: number;
  historyMaxLen: number;
  retentionMs: number;
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
    ];
    for (const e of events) args.push(e.jobId, e.id, e.event, JSON.stringify(e.data));
    return client.jobstreamAppend(...args);
  };
}
