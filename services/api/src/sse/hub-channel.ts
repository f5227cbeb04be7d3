import { channelKey, type ChannelRef, type JobstreamKeys } from '@jobstream/runtime';

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

/** The Redis stream that stores a channel's entries. */
export function hubChannelKey(keys: JobstreamKeys, channel: HubChannel): string {
  return isJobChannel(channel) ? keys.history(jobIdOf(channel)) : channelKey(keys, channel);
}
