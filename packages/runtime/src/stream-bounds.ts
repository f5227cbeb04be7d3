import type { RedisClient } from './redis.js';
import { compareStreamIds } from './stream-id.js';

/** The fields of XINFO STREAM (Redis 7) that tell whether a cursor is still covered. */
export interface StreamBounds {
  lastGeneratedId: string;
  /** The newest id XDEL removed (trimming does not move it). */
  maxDeletedId: string;
  /** The oldest id still stored. */
  firstId: string;
  /** Whether entries were ever removed (trimmed or deleted): fewer are stored than were added. */
  removed: boolean;
}

function infoField(info: unknown[], name: string): unknown {
  const at = info.indexOf(name);
  return at >= 0 ? info[at + 1] : undefined;
}

/** The newest entry in an `XINFO STREAM` reply, if the stream holds any. */
export function lastEntryOf(info: unknown): [id: string, fields: string[]] | undefined {
  const last = infoField(Array.isArray(info) ? info : [], 'last-entry');
  return Array.isArray(last) && typeof last[0] === 'string' && Array.isArray(last[1]) ? [last[0], last[1].map(String)] : undefined;
}

/** The bounds in an `XINFO STREAM` reply. */
export function streamBoundsOf(info: unknown): StreamBounds {
  const list = Array.isArray(info) ? info : [];
  const first = infoField(list, 'first-entry');
  const added = infoField(list, 'entries-added');
  return {
    lastGeneratedId: String(infoField(list, 'last-generated-id') ?? '0-0'),
    maxDeletedId: String(infoField(list, 'max-deleted-entry-id') ?? '0-0'),
    firstId: Array.isArray(first) ? String(first[0]) : String(infoField(list, 'recorded-first-entry-id') ?? '0-0'),
    // Unknown (before Redis 7) counts as removed: a needless reset is better than a silent gap.
    removed: added === undefined || Number(added) > Number(infoField(list, 'length') ?? 0),
  };
}

/**
 * Whether every entry of a stream after `afterId` is still stored (`bounds` undefined: the stream
 * does not exist). A cursor the stream gave out lies between its oldest and newest entry; one
 * older than the oldest entry means entries after it were trimmed (or the stream expired and was
 * made again), so it is not covered. `0-0` (the stream was empty when the client connected) is
 * covered as long as nothing was ever removed.
 */
export function isCursorCovered(afterId: string, bounds: StreamBounds | undefined): boolean {
  if (!bounds) return afterId === '0-0';
  if (compareStreamIds(afterId, bounds.lastGeneratedId) > 0) return false;
  if (compareStreamIds(bounds.maxDeletedId, afterId) > 0) return false;
  if (afterId === '0-0') return !bounds.removed;
  return compareStreamIds(afterId, bounds.firstId) >= 0;
}

/**
 * The bounds of the stream at `key`, undefined when it does not exist (XINFO's "no such key");
 * every other error is thrown.
 */
export async function readStreamBounds(redis: RedisClient, key: string): Promise<StreamBounds | undefined> {
  try {
    return streamBoundsOf(await redis.xinfo('STREAM', key));
  } catch (err) {
    if (err instanceof Error && /no such key/i.test(err.message)) return undefined;
    throw err;
  }
}
