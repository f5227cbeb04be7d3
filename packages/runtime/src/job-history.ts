import { parseLifecycleEvent, type LifecycleEvent } from '@jobstream/contracts';
import type { JobstreamKeys } from './keys.js';
import type { RedisClient } from './redis.js';

/** Field names of a history entry: the event name and its JSON data. */
export const HISTORY_FIELDS = { event: 'e', data: 'd' } as const;
/** Field names of a feed entry: the job id and the id of the event in the job's history. */
export const FEED_FIELDS = { jobId: 'j', historyId: 'i' } as const;

type RawEntry = [id: string, fields: string[]];

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Decodes one stored history entry; throws when the entry is not a valid lifecycle event. */
export function decodeHistoryEntry([id, fields]: RawEntry): LifecycleEvent {
  const name = fieldValue(fields, HISTORY_FIELDS.event) ?? '';
  const data: unknown = JSON.parse(fieldValue(fields, HISTORY_FIELDS.data) ?? 'null');
  return parseLifecycleEvent(id, name, data);
}

/** Decodes one feed entry into the job id and the history id it points at. */
export function decodeFeedEntry([id, fields]: RawEntry): { feedId: string; jobId: string; historyId: string } | undefined {
  const jobId = fieldValue(fields, FEED_FIELDS.jobId);
  const historyId = fieldValue(fields, FEED_FIELDS.historyId);
  return jobId && historyId ? { feedId: id, jobId, historyId } : undefined;
}

export interface HistoryRead {
  events: LifecycleEvent[];
  /** Id of the oldest entry still stored, if any: a cursor older than it has a gap behind it. */
  firstId?: string;
  /** The newest entry stored, if any. */
  last?: LifecycleEvent;
}

/**
 * Reads a job's history after `afterId` (exclusive), or from its start, oldest first, with the
 * bounds of what is stored, in one transaction (so the bounds describe the entries read). With
 * `count` it reads at most that many entries: one page of a replay.
 */
export async function readHistory(
  redis: RedisClient,
  keys: JobstreamKeys,
  jobId: string,
  afterId?: string,
  count?: number,
): Promise<HistoryRead> {
  const key = keys.history(jobId);
  const start = afterId ? `(${afterId}` : '-';
  const multi = redis.multi();
  if (count === undefined) multi.xrange(key, start, '+');
  else multi.xrange(key, start, '+', 'COUNT', count);
  const results = await multi
    .xrange(key, '-', '+', 'COUNT', 1)
    .xrevrange(key, '+', '-', 'COUNT', 1)
    .exec();
  if (!results) throw new Error('history read was aborted');
  for (const [err] of results) if (err) throw err;
  const entries = (results[0]?.[1] ?? []) as RawEntry[];
  const first = (results[1]?.[1] ?? []) as RawEntry[];
  const last = (results[2]?.[1] ?? []) as RawEntry[];
  const read: HistoryRead = { events: entries.map(decodeHistoryEntry) };
  if (first[0]) read.firstId = first[0][0];
  if (last[0]) read.last = decodeHistoryEntry(last[0]);
  return read;
}

/** Reads specific entries of one job's history (from `fromId` to `toId`, inclusive). */
export async function readHistoryRange(
  redis: RedisClient,
  keys: JobstreamKeys,
  jobId: string,
  fromId: string,
  toId: string,
): Promise<LifecycleEvent[]> {
  const entries = (await redis.xrange(keys.history(jobId), fromId, toId)) as RawEntry[];
  return entries.map(decodeHistoryEntry);
}
