import { parseLifecycleEvent, type LifecycleEvent } from '@jobstream/contracts';
import type { JobstreamKeys } from './keys.js';
import type { RedisClient } from './redis.js';
import { lastEntryOf, streamBoundsOf, type StreamBounds } from './stream-bounds.js';
import { FEED_FIELDS, HISTORY_FIELDS, readFields, type StreamEntry as RawEntry } from './stream-format.js';
import { streamIdTime } from './stream-id.js';

/**
 * A lifecycle event's data as its history stores it: without `jobId` and `timestamp`, which the
 * key and the entry id already tell (about 85 bytes of every entry a job keeps for a day).
 * `decodeHistoryEntry` puts them back.
 */
export function encodeHistoryData(data: { jobId: string; timestamp: string }): string {
  const { jobId: _jobId, timestamp: _timestamp, ...rest } = data;
  return JSON.stringify(rest);
}

/**
 * Decodes one stored entry of `jobId`'s history; throws when the entry is not a valid lifecycle
 * event. Entries written with their `jobId` and `timestamp` decode alike.
 */
export function decodeHistoryEntry(jobId: string, [id, fields]: RawEntry): LifecycleEvent {
  const f = readFields(fields);
  const name = f[HISTORY_FIELDS.event] ?? '';
  const stored: unknown = JSON.parse(f[HISTORY_FIELDS.data] ?? 'null');
  const data = stored !== null && typeof stored === 'object' && !Array.isArray(stored) ? { jobId, timestamp: streamIdTime(id), ...stored } : stored;
  const event = parseLifecycleEvent(id, name, data);
  const traceparent = f[HISTORY_FIELDS.trace];
  if (traceparent) relaySpans.set(event, traceparent);
  return event;
}

/** The relay span of decoded outcomes whose history entry named one; kept beside the event, which stays the contract's shape. */
const relaySpans = new WeakMap<LifecycleEvent, string>();

/**
 * The relay span (a W3C `traceparent`) stored with a traced job's outcome, for an event that
 * `decodeHistoryEntry` returned; undefined for every other event.
 */
export function relayTraceparentOf(event: LifecycleEvent): string | undefined {
  return relaySpans.get(event);
}

/** A feed entry for a job event. */
export interface FeedEntry {
  feedId: string;
  jobId: string;
  historyId: string;
  /** The history entry itself, when the feed carries it (see FEED_FIELDS); decode it with decodeHistoryEntry. */
  stored?: RawEntry;
}

/** Decodes one feed entry into the job id, the history id it points at and, when carried along, the history entry. */
export function decodeFeedEntry([id, fields]: RawEntry): FeedEntry | undefined {
  const f = readFields(fields);
  const jobId = f[FEED_FIELDS.jobId];
  const historyId = f[FEED_FIELDS.historyId];
  if (!jobId || !historyId) return undefined;
  const event = f[HISTORY_FIELDS.event];
  const data = f[HISTORY_FIELDS.data];
  if (event === undefined || data === undefined) return { feedId: id, jobId, historyId };
  const trace = f[HISTORY_FIELDS.trace];
  const storedFields = [HISTORY_FIELDS.event, event, HISTORY_FIELDS.data, data, ...(trace ? [HISTORY_FIELDS.trace, trace] : [])];
  return { feedId: id, jobId, historyId, stored: [historyId, storedFields] };
}

export interface HistoryRead {
  events: LifecycleEvent[];
  /** What the history stores (undefined: it does not exist), for the coverage rule (`isCursorCovered`). */
  bounds?: StreamBounds;
  /** The newest entry stored, if any. */
  last?: LifecycleEvent;
}

/** A history read from a page of its entries and the history's `XINFO STREAM` reply (anything but a reply: no history). */
export function historyReadOf(jobId: string, page: RawEntry[], info: unknown): HistoryRead {
  const read: HistoryRead = { events: page.map((entry) => decodeHistoryEntry(jobId, entry)) };
  if (!Array.isArray(info)) return read;
  read.bounds = streamBoundsOf(info);
  const last = lastEntryOf(info);
  if (last) read.last = decodeHistoryEntry(jobId, last);
  return read;
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
  const results = await multi.xinfo('STREAM', key).exec();
  if (!results) throw new Error('history read was aborted');
  const [[rangeErr, entries] = [null, []], [infoErr, info] = [null, undefined]] = results;
  if (rangeErr) throw rangeErr;
  // XINFO fails on a missing history ("no such key"); that is no history, not an error.
  if (infoErr && !/no such key/i.test(infoErr.message)) throw infoErr;
  return historyReadOf(jobId, entries as RawEntry[], infoErr ? undefined : info);
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
  return entries.map((entry) => decodeHistoryEntry(jobId, entry));
}
