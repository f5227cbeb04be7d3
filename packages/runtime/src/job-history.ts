import { parseLifecycleEvent, type LifecycleEvent } from '@jobstream/contracts';
import type { JobstreamKeys } from './keys.js';
import type { RedisClient } from './redis.js';
import { LUA_JOB_HISTORY } from './history-lua.js';
import { registerScript } from './lua-scripts.js';
import { lastEntryOf, streamBoundsOf, type StreamBounds } from './stream-bounds.js';
import { FEED_FIELDS, HISTORY_FIELDS, readFields, type StreamEntry as RawEntry } from './stream-format.js';
import { LUA_STREAM_ID_AFTER, streamIdTime } from './stream-id.js';

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

const HISTORY_READ_PREAMBLE = `${LUA_STREAM_ID_AFTER}${LUA_JOB_HISTORY}`;

/** KEYS: the history stream, the job hash. ARGV: the first id to leave out ('' for none), the page size (0: all). */
const defineReadHistory = registerScript('jobstreamReadHistory', {
  numberOfKeys: 2,
  lua: `${HISTORY_READ_PREAMBLE}
local packed = history_packed(KEYS[2])
local lo = ARGV[1] == '' and '-' or '(' .. ARGV[1]
return { history_range(KEYS[1], packed, lo, '+', tonumber(ARGV[2]), false), history_info(KEYS[1], packed) }
`,
});

/** KEYS: the history stream, the job hash. ARGV: XRANGE bounds from and to, at most this many (0: all), '1' for newest first. */
const defineHistoryRange = registerScript('jobstreamHistoryRange', {
  numberOfKeys: 2,
  lua: `${HISTORY_READ_PREAMBLE}
return history_range(KEYS[1], history_packed(KEYS[2]), ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4] == '1')
`,
});

type HistoryScripts = RedisClient & {
  jobstreamReadHistory(...args: (string | number)[]): Promise<[RawEntry[], unknown]>;
  jobstreamHistoryRange(...args: (string | number)[]): Promise<RawEntry[]>;
};

function historyScripts(redis: RedisClient): HistoryScripts {
  defineReadHistory(redis);
  defineHistoryRange(redis);
  return redis as HistoryScripts;
}

/**
 * Reads a job's history after `afterId` (exclusive), or from its start, oldest first, with the
 * bounds of what is stored, in one step (so the bounds describe the entries read), wherever it is
 * kept (see history-lua.ts). With `count` it reads at most that many entries: one page of a replay.
 */
export async function readHistory(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'history' | 'job'>,
  jobId: string,
  afterId?: string,
  count?: number,
): Promise<HistoryRead> {
  const [page, info] = await historyScripts(redis).jobstreamReadHistory(keys.history(jobId), keys.job(jobId), afterId ?? '', count ?? 0);
  return historyReadOf(jobId, page, info);
}

/** Which entries of a job's history `readHistoryEntries` reads: XRANGE bounds (`-`, `+`, `id`, `(id`), a count, newest first. */
export interface HistoryRange {
  from: string;
  to: string;
  /** At most this many entries; default all. */
  count?: number;
  /** Newest first (as XREVRANGE); default oldest first. */
  newestFirst?: boolean;
}

/** Reads entries of one job's history as stored (decode them with decodeHistoryEntry), wherever it is kept. */
export function readHistoryEntries(redis: RedisClient, keys: Pick<JobstreamKeys, 'history' | 'job'>, jobId: string, range: HistoryRange): Promise<RawEntry[]> {
  return historyScripts(redis).jobstreamHistoryRange(
    keys.history(jobId),
    keys.job(jobId),
    range.from,
    range.to,
    range.count ?? 0,
    range.newestFirst ? '1' : '',
  );
}
