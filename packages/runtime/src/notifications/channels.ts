import type { JobstreamKeys } from '../keys.js';
import { CHANNEL_FIELDS, FEED_CHANNEL_FIELDS, readFields, type StreamEntry } from '../stream-format.js';

/**
 * Channels are the capped streams a notification stream follows. Each is named by a short ref,
 * used in feed pointers (`c`) and, without the user id, in the stream's cursor:
 * `u:<userId>` a user's channel, `t:<topic>` a topic's, `s` the system stream (admins only).
 */
export type ChannelRef = `u:${string}` | `t:${string}` | 's';

export const SYSTEM_CHANNEL: ChannelRef = 's';

export const userChannelRef = (userId: string): ChannelRef => `u:${userId}`;
export const topicChannelRef = (topic: string): ChannelRef => `t:${topic}`;

/** The user whose channel `ref` is, or undefined for a topic or the system channel. */
export const userOfChannel = (ref: ChannelRef): string | undefined => (ref.startsWith('u:') ? ref.slice(2) : undefined);

// The channel field names live with the other stream layouts; re-exported for the scripts that import them from here.
export { CHANNEL_FIELDS, FEED_CHANNEL_FIELDS };

/** The Redis key of a channel. */
export function channelKey(keys: Pick<JobstreamKeys, 'userChannel' | 'topicChannel' | 'system'>, ref: ChannelRef): string {
  if (ref === SYSTEM_CHANNEL) return keys.system;
  const userId = userOfChannel(ref);
  return userId === undefined ? keys.topicChannel(ref.slice(2)) : keys.userChannel(userId);
}

/** The channel entry a feed entry points at, if it points at one. */
export function decodeFeedPointer([id, fields]: StreamEntry): { feedId: string; channel: ChannelRef; channelId: string } | undefined {
  const f = readFields(fields);
  const channel = f[FEED_CHANNEL_FIELDS.channel];
  const channelId = f[FEED_CHANNEL_FIELDS.channelId];
  if (!channel || !channelId) return undefined;
  if (channel !== SYSTEM_CHANNEL && !channel.startsWith('u:') && !channel.startsWith('t:')) return undefined;
  return { feedId: id, channel: channel as ChannelRef, channelId };
}

/** A raw channel entry's fields by name. */
export function channelEntryFields(fields: string[]): { event?: string; data?: string; jobType?: string; trace?: string } {
  const f = readFields(fields);
  return { event: f[CHANNEL_FIELDS.event], data: f[CHANNEL_FIELDS.data], jobType: f[CHANNEL_FIELDS.jobType], trace: f[CHANNEL_FIELDS.trace] };
}
