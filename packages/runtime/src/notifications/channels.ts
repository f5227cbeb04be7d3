import type { JobstreamKeys } from '../keys.js';
import type { StreamEntry } from '../stream-follower.js';

/**
 * Channels are the capped streams a notification stream follows. Each is named by a short ref,
 * used in feed pointers (`c`) and, without the user id, in the stream's cursor:
 * `u:<userId>` a user's channel, `t:<topic>` a topic's, `s` the system stream (admins only).
 */
export type ChannelRef = `u:${string}` | `t:${string}` | 's';

export const SYSTEM_CHANNEL: ChannelRef = 's';

export const userChannelRef = (userId: string): ChannelRef => `u:${userId}`;
export const topicChannelRef = (topic: string): ChannelRef => `t:${topic}`;

/** Field names of a user or topic channel entry: the message name, its JSON data, and for job events the job type. */
export const CHANNEL_FIELDS = { event: 'e', data: 'd', jobType: 'jt' } as const;

/** Fields a feed entry carries when it points at a channel entry (next to `j`/`i` for job events). */
export const FEED_CHANNEL_FIELDS = { channel: 'c', channelId: 'ci' } as const;

/** The Redis key of a channel. */
export function channelKey(keys: Pick<JobstreamKeys, 'userChannel' | 'topicChannel' | 'system'>, ref: ChannelRef): string {
  if (ref === SYSTEM_CHANNEL) return keys.system;
  return ref.startsWith('u:') ? keys.userChannel(ref.slice(2)) : keys.topicChannel(ref.slice(2));
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The channel entry a feed entry points at, if it points at one. */
export function decodeFeedPointer([id, fields]: StreamEntry): { feedId: string; channel: ChannelRef; channelId: string } | undefined {
  const channel = fieldValue(fields, FEED_CHANNEL_FIELDS.channel);
  const channelId = fieldValue(fields, FEED_CHANNEL_FIELDS.channelId);
  if (!channel || !channelId) return undefined;
  if (channel !== SYSTEM_CHANNEL && !channel.startsWith('u:') && !channel.startsWith('t:')) return undefined;
  return { feedId: id, channel: channel as ChannelRef, channelId };
}

/** A raw channel entry's fields by name. */
export function channelEntryFields(fields: string[]): { event?: string; data?: string; jobType?: string } {
  return {
    event: fieldValue(fields, CHANNEL_FIELDS.event),
    data: fieldValue(fields, CHANNEL_FIELDS.data),
    jobType: fieldValue(fields, CHANNEL_FIELDS.jobType),
  };
}
