import { channelKey, readHistoryEntries, type ChannelRef, type JobstreamKeys, type RedisClient, type StreamEntry } from '@jobstream/runtime';

/**
 * A job's history, as a channel of the hub: its live events are the job's lifecycle events. Only
 * the api names these; a notification cursor never does (stream-cursor.ts parses `u`, `t:` and
 * `s` only), so no client can point a notification stream at someone's job.
 */
export type JobChannelRef = `j:${string}`;

/** What a stream of the hub follows: a job's history, or a notification channel (a user's, a topic, the system channel). */
export type HubChannel = JobChannelRef | ChannelRef;

export const jobChannelRef = (jobId: string): JobChannelRef => `j:${jobId}`;

export const isJobChannel = (channel: HubChannel): channel is JobChannelRef => channel.startsWith('j:');

export const jobIdOf = (channel: JobChannelRef): string => channel.slice(2);

/** A channel's entries from `from` to `to` (ids, inclusive), oldest first; a job's history wherever it is kept. */
export function readHubChannel(redis: RedisClient, keys: JobstreamKeys, channel: HubChannel, from: string, to: string): Promise<StreamEntry[]> {
  if (isJobChannel(channel)) return readHistoryEntries(redis, keys, jobIdOf(channel), { from, to });
  return redis.xrange(channelKey(keys, channel), from, to) as Promise<StreamEntry[]>;
}
