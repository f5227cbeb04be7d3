import { systemEventSchemas, type SystemEventData, type SystemEventName } from '@jobstream/contracts';
import type { JobstreamKeys } from './keys.js';
import type { RedisClient } from './redis.js';

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
 * Publishes a system notification to `keys.system`. The data is checked against its contract
 * first, so a publisher cannot put a shape on the stream that admins' clients cannot read.
 */
export async function publishSystemEvent<N extends SystemEventName>(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'system'>,
  event: N,
  data: SystemEventData<N>,
): Promise<string> {
  const parsed = systemEventSchemas[event].parse(data);
  const id = await redis.xadd(
    keys.system,
    'MAXLEN',
    '~',
    SYSTEM_STREAM_MAX_LEN,
    '*',
    SYSTEM_FIELDS.event,
    event,
    SYSTEM_FIELDS.data,
    JSON.stringify(parsed),
  );
  return id ?? '';
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
