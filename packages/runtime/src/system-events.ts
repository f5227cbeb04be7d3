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
    const event = decodeSystemEntry(id, fields);
    if (event) events.push(event);
  }
  return events;
}

/** One stream entry as a system notification, or undefined for an unknown or broken one. */
function decodeSystemEntry(id: string, fields: string[]): SystemEvent | undefined {
  const name = fields[fields.indexOf(SYSTEM_FIELDS.event) + 1];
  const raw = fields[fields.indexOf(SYSTEM_FIELDS.data) + 1];
  if (!name || raw === undefined || !Object.prototype.hasOwnProperty.call(systemEventSchemas, name)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = systemEventSchemas[name as SystemEventName].safeParse(json);
  return parsed.success ? { id, event: name as SystemEventName, data: parsed.data } : undefined;
}

/**
 * The latest system notifications, newest first: `count` of them, or of one kind only. A filtered
 * read walks back through the stream a page at a time, never past its cap.
 */
export async function readLatestSystemEvents(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'system'>,
  count: number,
  only?: SystemEventName,
): Promise<SystemEvent[]> {
  const page = only === undefined ? count : 500;
  const events: SystemEvent[] = [];
  let end = '+';
  for (let scanned = 0; events.length < count && scanned < SYSTEM_STREAM_MAX_LEN * 2; scanned += page) {
    const rows = (await redis.xrevrange(keys.system, end, '-', 'COUNT', page)) as [string, string[]][];
    for (const [id, fields] of rows) {
      const event = decodeSystemEntry(id, fields);
      if (event && (only === undefined || event.event === only) && events.length < count) events.push(event);
    }
    const last = rows.at(-1);
    if (rows.length < page || !last) break;
    end = `(${last[0]}`;
  }
  return events;
}
