import type { JobstreamKeys } from '../keys.js';
import type { RedisClient } from '../redis.js';
import { CHANNEL_FIELDS, channelKey, FEED_CHANNEL_FIELDS, type ChannelRef } from './channels.js';
import { registerScript } from '../lua-scripts.js';

/** The bounds every channel write applies. */
export interface ChannelLimits {
  /** Entries kept per channel (approximate trimming). */
  streamMaxLen: number;
  /** An idle channel expires after this long. */
  retentionMs: number;
  /** Entries kept in the live feed (approximate trimming), as the relay keeps it. */
  feedMaxLen: number;
}

/**
 * Lua: `append_to_channel(channel, feed, ref, event, data, maxLen, feedMaxLen, retentionMs)` adds an
 * entry to a channel and the pointer to it to the live feed, and returns the entry's id. Scripts
 * that write a channel include it, so the pointer is always written with the entry: an api
 * replica never sees one without the other.
 */
export const LUA_CHANNEL_APPEND = `
local function append_to_channel(channel, feed, ref, event, data, maxLen, feedMaxLen, retentionMs)
  local id = redis.call('XADD', channel, 'MAXLEN', '~', maxLen, '*', '${CHANNEL_FIELDS.event}', event, '${CHANNEL_FIELDS.data}', data)
  redis.call('PEXPIRE', channel, retentionMs)
  redis.call('XADD', feed, 'MAXLEN', '~', feedMaxLen, '*', '${FEED_CHANNEL_FIELDS.channel}', ref, '${FEED_CHANNEL_FIELDS.channelId}', id)
  return id
end
`;

const APPEND_SCRIPT = `${LUA_CHANNEL_APPEND}
return append_to_channel(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

type ScriptClient = RedisClient & { jobstreamChannelAppend(...args: (string | number)[]): Promise<string> };

const defineChannelAppend = registerScript('jobstreamChannelAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });

/** Appends one message to a channel (and its pointer to the feed) atomically; returns the entry id. */
export async function appendToChannel(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'userChannel' | 'topicChannel' | 'system' | 'feed'>,
  ref: ChannelRef,
  event: string,
  data: string,
  limits: ChannelLimits,
): Promise<string> {
  defineChannelAppend(redis);
  return (redis as ScriptClient).jobstreamChannelAppend(
    channelKey(keys, ref),
    keys.feed,
    ref,
    event,
    data,
    limits.streamMaxLen,
    limits.feedMaxLen,
    limits.retentionMs,
  );
}
