/**
 * The layout of jobstream's Redis streams: the field names of each kind of entry and the one
 * decoder of the flat field lists Redis returns. Every writer (the relay's Lua script, the channel
 * and system scripts) and every reader takes its names from here. Names are one or two letters:
 * a stream stores an entry's names only when they differ from its node's first entry, but the
 * values of every entry are stored as they are.
 */

/** A stream entry as ioredis returns it: the id and the fields as a flat name/value list. */
export type StreamEntry = [id: string, fields: string[]];

/** Field names of a history entry: the event name, its JSON data, and for a traced job's outcome the relay's span (a W3C traceparent). */
export const HISTORY_FIELDS = { event: 'e', data: 'd', trace: 't' } as const;

/**
 * Field names of a feed entry for a job event: the job id and the id of the event in the job's
 * history. When the event's stored data is at most FEED_INLINE_MAX_BYTES, the entry also carries
 * the history entry's own fields (HISTORY_FIELDS), so its readers need not read the history.
 */
export const FEED_FIELDS = { jobId: 'j', historyId: 'i' } as const;

/**
 * The largest stored event data (JSON bytes) a feed entry carries along: waiting, active and
 * progress events and small outcomes. A larger event is read from its job's history. The feed is
 * capped (FEED_MAX_LEN entries), so this bounds what the copies cost: at most this much per entry.
 */
export const FEED_INLINE_MAX_BYTES = 512;

/**
 * Field names of a user or topic channel entry: the message name, its JSON data, for job events
 * the job type, and for a traced job's outcome the relay's span (a W3C traceparent).
 */
export const CHANNEL_FIELDS = { event: 'e', data: 'd', jobType: 'jt', trace: 't' } as const;

/** Fields a feed entry carries when it points at a channel entry (next to `j`/`i` for job events). */
export const FEED_CHANNEL_FIELDS = { channel: 'c', channelId: 'ci' } as const;

/**
 * A flat name/value list (a stream entry's fields, a hash read with HGETALL) by name; the first
 * of repeated names wins. The record has no prototype, so a field named `__proto__` is just a field.
 */
export function readFields(fields: readonly string[]): Record<string, string | undefined> {
  const out = Object.create(null) as Record<string, string | undefined>;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    if (out[name] === undefined) out[name] = fields[i + 1];
  }
  return out;
}
