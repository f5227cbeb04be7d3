import { notificationSchema, type Notification } from '@jobstream/contracts';
import type { InboxKeys, JobstreamKeys } from '../keys.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import { LUA_CHANNEL_APPEND } from './channel-append.js';
import { userChannelRef } from './channels.js';
import { LUA_INBOX } from './inbox-lua.js';
import type { NotificationLimits } from './limits.js';
import { notificationIdBound } from './notification-id.js';
import { registerScript } from '../lua-scripts.js';

/**
 * One page, newest first, of the whole inbox or of its unread part, with the unread count, read
 * in one script so the page and the count agree. Items past the retention are left out here and
 * removed by the next write. KEYS: the set to page (all or unread), unread, data.
 * ARGV: the id to continue after ('' for the first page), page size, retention bound.
 * Returns { unreadCount, hasMore, id1, json1, unread1, id2, ... }.
 */
const LIST_SCRIPT = `
local zset, unread, data = KEYS[1], KEYS[2], KEYS[3]
local after, limit, bound = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local max = '+'
if after ~= '' then max = '(' .. after end
local ids = redis.call('ZRANGE', zset, max, '[' .. bound, 'BYLEX', 'REV', 'LIMIT', 0, limit + 1)
local count = redis.call('ZLEXCOUNT', unread, '[' .. bound, '+')
local hasMore = 0
if #ids > limit then
  hasMore = 1
  table.remove(ids)
end
local out = { count, hasMore }
if #ids == 0 then return out end
local jsons = redis.call('HMGET', data, unpack(ids))
local scores = redis.call('ZMSCORE', unread, unpack(ids))
for i, id in ipairs(ids) do
  if jsons[i] then
    table.insert(out, id)
    table.insert(out, jsons[i])
    if scores[i] then table.insert(out, 1) else table.insert(out, 0) end
  end
end
return out
`;

/**
 * Marks one item read; when the unread count changed (by this or by expired items removed on the
 * way), appends the new count to the user's channel with its feed pointer.
 * KEYS: all, unread, data, channel, feed. ARGV: id, bound, channel max len, feed max len, retention ms, ref, timestamp.
 * Returns the unread count, or -1 when the inbox has no such item.
 */
const MARK_READ_SCRIPT = `${LUA_INBOX}${LUA_CHANNEL_APPEND}
local all, unread, data, channel, feed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, bound, maxLen, feedMaxLen, retentionMs, ref, timestamp = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local changed = prune(all, unread, data, bound)
if redis.call('HEXISTS', data, id) == 0 then
  if changed > 0 then
    append_to_channel(channel, feed, ref, 'unread_count', unread_count_json(redis.call('ZCARD', unread), timestamp), maxLen, feedMaxLen, retentionMs)
  end
  return -1
end
changed = changed + redis.call('ZREM', unread, id)
local count = redis.call('ZCARD', unread)
if changed > 0 then
  append_to_channel(channel, feed, ref, 'unread_count', unread_count_json(count, timestamp), maxLen, feedMaxLen, retentionMs)
end
return count
`;

/**
 * Marks every item read; appends `unread_count` 0 when anything was unread.
 * KEYS and ARGV as MARK_READ_SCRIPT without the id. Returns how many items were unread.
 */
const READ_ALL_SCRIPT = `${LUA_INBOX}${LUA_CHANNEL_APPEND}
local all, unread, data, channel, feed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local bound, maxLen, feedMaxLen, retentionMs, ref, timestamp = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local expired = prune(all, unread, data, bound)
local updated = redis.call('ZCARD', unread)
redis.call('DEL', unread)
if updated + expired > 0 then
  append_to_channel(channel, feed, ref, 'unread_count', unread_count_json(0, timestamp), maxLen, feedMaxLen, retentionMs)
end
return updated
`;

type ScriptClient = RedisClient & {
  jobstreamInboxList(...args: (string | number)[]): Promise<(string | number)[]>;
  jobstreamInboxMarkRead(...args: (string | number)[]): Promise<number>;
  jobstreamInboxReadAll(...args: (string | number)[]): Promise<number>;
};

const defineInboxList = registerScript('jobstreamInboxList', { numberOfKeys: 3, lua: LIST_SCRIPT });
const defineInboxMarkRead = registerScript('jobstreamInboxMarkRead', { numberOfKeys: 5, lua: MARK_READ_SCRIPT });
const defineInboxReadAll = registerScript('jobstreamInboxReadAll', { numberOfKeys: 5, lua: READ_ALL_SCRIPT });

function scripts(redis: RedisClient): ScriptClient {
  defineInboxList(redis);
  defineInboxMarkRead(redis);
  defineInboxReadAll(redis);
  return redis as ScriptClient;
}

type InboxStoreKeys = Pick<JobstreamKeys, 'inbox' | 'userChannel' | 'feed'>;

export interface InboxPageRead {
  items: Notification[];
  /** The id the next page continues after; undefined on the last page. */
  nextAfter: string | undefined;
  unreadCount: number;
}

/**
 * One user's inbox. Every operation is one script on the user's keys, bounded by the retention
 * and the size cap; every change of the unread count reaches the user's channel.
 */
export class InboxStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: InboxStoreKeys,
    private readonly limits: NotificationLimits,
    private readonly logger: Logger,
  ) {}

  /** A page newest first, after the id `after` (exclusive); only unread items when `unreadOnly`. */
  async list(userId: string, options: { unreadOnly: boolean; limit: number; after?: string | undefined }, now = Date.now()): Promise<InboxPageRead> {
    const inbox = this.keys.inbox(userId);
    const reply = await scripts(this.redis).jobstreamInboxList(
      options.unreadOnly ? inbox.unread : inbox.all,
      inbox.unread,
      inbox.data,
      options.after ?? '',
      options.limit,
      this.bound(now),
    );
    const [count, hasMore] = reply;
    const items: Notification[] = [];
    for (let i = 2; i + 2 < reply.length; i += 3) {
      const id = String(reply[i]);
      const parsed = notificationSchema.safeParse(safeJson(String(reply[i + 1])));
      if (!parsed.success) {
        // Written by this code after validation; a broken item is a bug, not the reader's problem.
        this.logger.error({ userId, id, err: parsed.error }, 'skipping an undecodable inbox item');
        continue;
      }
      items.push({ ...parsed.data, read: Number(reply[i + 2]) === 0 });
    }
    const last = items.at(-1);
    return { items, nextAfter: Number(hasMore) === 1 && last ? last.id : undefined, unreadCount: Number(count) };
  }

  /** Unread items still within the retention. */
  async unreadCount(userId: string, now = Date.now()): Promise<number> {
    return this.redis.zlexcount(this.keys.inbox(userId).unread, `[${this.bound(now)}`, '+');
  }

  /** Marks one item read; returns the unread count, or undefined when the inbox has no such item. */
  async markRead(userId: string, id: string, now = Date.now()): Promise<number | undefined> {
    const count = await scripts(this.redis).jobstreamInboxMarkRead(...this.writeKeys(userId), id, ...this.writeArgs(userId, now));
    return count < 0 ? undefined : count;
  }

  /** Marks every item read; returns how many were unread. */
  async markAllRead(userId: string, now = Date.now()): Promise<number> {
    return scripts(this.redis).jobstreamInboxReadAll(...this.writeKeys(userId), ...this.writeArgs(userId, now));
  }

  private bound(now: number): string {
    return notificationIdBound(now - this.limits.retentionMs);
  }

  private writeKeys(userId: string): [string, string, string, string, string] {
    const inbox: InboxKeys = this.keys.inbox(userId);
    return [inbox.all, inbox.unread, inbox.data, this.keys.userChannel(userId), this.keys.feed];
  }

  private writeArgs(userId: string, now: number): (string | number)[] {
    const { streamMaxLen, feedMaxLen, retentionMs } = this.limits;
    return [this.bound(now), streamMaxLen, feedMaxLen, retentionMs, userChannelRef(userId), new Date(now).toISOString()];
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
