import { systemEventSchemas, type SystemEventData, type SystemEventName } from '@jobstream/contracts';
import type { JobstreamKeys } from './keys.js';
import { FEED_CHANNEL_FIELDS, SYSTEM_CHANNEL } from './notifications/channels.js';
import type { RedisClient } from './redis.js';
import { registerScript } from './lua-scripts.js';

/** Field names of a system stream entry: the event name and its JSON data (as in job histories). */
export const SYSTEM_FIELDS = { event: 'e', data: 'd' } as const;

/**
 * Entries kept in the system stream (approximate trimming). Notifications are few (transitions,
 * not samples), so this covers weeks; the notification streams read it from a cursor.
 */
export const SYSTEM_STREAM_MAX_LEN = 10_000;

/** One stored system notification. */
export interface SystemEvent<N extends SystemEventName = SystemEventName> {
  id: string;
  event: N;
  data: SystemEventData<N>;
}

/**
 * Lua: adds the entry to the system stream and its pointer (`c=s`, `ci`) to the live feed, so an
 * api replica's feed reader delivers it to the admins' notification streams. Used by every
 * writer of the system stream (this file and the kill-switch script).
 * The feed is not trimmed here: these writes are rare transitions, and the relay and the
 * notification writers, which know the configured FEED_MAX_LEN, trim it on their next write.
 */
export const LUA_SYSTEM_APPEND = `
local function append_system_event(system, feed, maxLen, event, data)
  local id = redis.call('XADD', system, 'MAXLEN', '~', maxLen, '*', '${SYSTEM_FIELDS.event}', event, '${SYSTEM_FIELDS.data}', data)
  redis.call('XADD', feed, '*', '${FEED_CHANNEL_FIELDS.channel}', '${SYSTEM_CHANNEL}', '${FEED_CHANNEL_FIELDS.channelId}', id)
  return id
end
`;

const PUBLISH_SCRIPT = `${LUA_SYSTEM_APPEND}
return append_system_event(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`;

type ScriptClient = RedisClient & { jobstreamPublishSystemEvent(...args: (string | number)[]): Promise<string> };

const definePublishSystemEvent = registerScript('jobstreamPublishSystemEvent', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });

/**
 * Publishes a system notification to `keys.system`, with its feed pointer, atomically. The data
 * is checked against its contract first, so a publisher cannot put a shape on the stream that
 * admins' clients cannot read.
 */
export async function publishSystemEvent<N extends SystemEventName>(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'system' | 'feed'>,
  event: N,
  data: SystemEventData<N>,
): Promise<string> {
  const parsed = systemEventSchemas[event].parse(data);
  definePublishSystemEvent(redis);
  return (redis as ScriptClient).jobstreamPublishSystemEvent(keys.system, keys.feed, SYSTEM_STREAM_MAX_LEN, event, JSON.stringify(parsed));
}

/** Reads system notifications after `afterId` (exclusive), oldest first; unknown or broken entries are skipped. */
export async function readSystemEvents(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'system'>,
  afterId = '-',
  count = 100,
): Promise<SystemEvent[]> {
  const start = afterId === '-' ? '-' : `(${afterId}`;
  const rows = (await redis.xrange(keys.system, start, '+', 'COUNT', count)) as [string, string[]][];
  const events: SystemEvent[] = [];
  for (const [id, fields] of rows) {
    const name = fields[fields.indexOf(SYSTEM_FIELDS.event) + 1];
    const raw = fields[fields.indexOf(SYSTEM_FIELDS.data) + 1];
    if (!name || raw === undefined || !Object.prototype.hasOwnProperty.call(systemEventSchemas, name)) continue;
    const parsed = systemEventSchemas[name as SystemEventName].safeParse(JSON.parse(raw));
    if (parsed.success) events.push({ id, event: name as SystemEventName, data: parsed.data });
  }
  return events;
}
