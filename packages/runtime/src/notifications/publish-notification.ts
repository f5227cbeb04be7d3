import { notificationSchema, severityOfPriority, type Notification, type ValidNotificationRequest } from '@jobstream/contracts';
import type { JobstreamKeys } from '../keys.js';
import type { RedisClient } from '../redis.js';
import { appendToChannel, LUA_CHANNEL_APPEND } from './channel-append.js';
import { topicChannelRef, userChannelRef } from './channels.js';
import { LUA_INBOX } from './inbox-lua.js';
import type { NotificationLimits } from './limits.js';
import { newNotificationId, notificationIdBound } from './notification-id.js';
import { registerScript } from '../lua-scripts.js';

/**
 * Stores a notification in the inbox (expired and surplus items go first) and appends the
 * notification and the new unread count to the user's channel, each with its feed pointer, in
 * one script: a stream never announces an item the inbox does not hold, nor misses a count.
 * KEYS: inbox all, unread, data, channel, feed.
 * ARGV: id, json, retention bound, max items, retention ms, channel max len, feed max len, channel ref, timestamp.
 */
const PUBLISH_TO_USER_SCRIPT = `${LUA_INBOX}${LUA_CHANNEL_APPEND}
local all, unread, data, channel, feed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, json, bound, maxItems, retentionMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local maxLen, feedMaxLen, ref, timestamp = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
prune(all, unread, data, bound)
redis.call('HSET', data, id, json)
redis.call('ZADD', all, 0, id)
redis.call('ZADD', unread, 0, id)
cap(all, unread, data, maxItems)
for _, key in ipairs({ all, unread, data }) do redis.call('PEXPIRE', key, retentionMs) end
local count = redis.call('ZCARD', unread)
append_to_channel(channel, feed, ref, 'notification', json, maxLen, feedMaxLen, retentionMs)
append_to_channel(channel, feed, ref, 'unread_count', unread_count_json(count, timestamp), maxLen, feedMaxLen, retentionMs)
return count
`;

type ScriptClient = RedisClient & { jobstreamPublishToUser(...args: (string | number)[]): Promise<number> };

type NotificationKeys = Pick<JobstreamKeys, 'inbox' | 'userChannel' | 'topicChannel' | 'system' | 'feed'>;

const definePublishToUser = registerScript('jobstreamPublishToUser', { numberOfKeys: 5, lua: PUBLISH_TO_USER_SCRIPT });

/**
 * Publishes a notification: to a user (inbox, then their channel with the new unread count) or to
 * a topic (its channel only: a topic has no inbox). Returns the stored Notification.
 */
export async function publishNotification(
  redis: RedisClient,
  keys: NotificationKeys,
  input: ValidNotificationRequest,
  limits: NotificationLimits,
  now: number = Date.now(),
): Promise<Notification> {
  const notification = notificationSchema.parse({
    id: newNotificationId(now),
    type: input.type,
    title: input.title,
    message: input.message,
    priority: input.priority,
    severity: severityOfPriority(input.priority),
    category: input.category ?? null,
    data: input.data,
    ...(input.topic !== undefined ? { topic: input.topic } : {}),
    ...(input.userId !== undefined ? { userId: input.userId } : {}),
    createdAt: new Date(now).toISOString(),
    read: false,
  });
  const json = JSON.stringify(notification);
  if (input.userId === undefined) {
    if (input.topic === undefined) throw new Error('a notification needs a userId or a topic');
    await appendToChannel(redis, keys, topicChannelRef(input.topic), 'notification', json, limits);
    return notification;
  }
  definePublishToUser(redis);
  const inbox = keys.inbox(input.userId);
  await (redis as ScriptClient).jobstreamPublishToUser(
    inbox.all,
    inbox.unread,
    inbox.data,
    keys.userChannel(input.userId),
    keys.feed,
    notification.id,
    json,
    notificationIdBound(now - limits.retentionMs),
    limits.inboxMaxItems,
    limits.retentionMs,
    limits.streamMaxLen,
    limits.feedMaxLen,
    userChannelRef(input.userId),
    new Date(now).toISOString(),
  );
  return notification;
}
