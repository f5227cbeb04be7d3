import type { RedisClient } from '../redis.js';
import { compareStreamIds } from '../stream-id.js';
import type { StreamEntry } from '../stream-follower.js';

/** What a channel holds after a cursor. */
export interface ChannelRead {
  /** Entries after the cursor (exclusive), oldest first; empty unless `covered`. */
  entries: StreamEntry[];
  /** The newest id the channel ever had (`0-0` when it does not exist): where a stream starts, or goes on after a reset. */
  endId: string;
  /**
   * False when entries after the cursor may be gone: trimmed by the cap, expired with the whole
   * channel, or the cursor is not one this channel gave out. True when there was no cursor.
   */
  covered: boolean;
}

/** The fields of XINFO STREAM (Redis 7) that tell whether a cursor is still covered. */
interface StreamBounds {
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

function boundsOf(info: unknown): StreamBounds {
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
 * Whether every entry after `afterId` is still stored. A cursor from this channel lies between its
 * oldest and newest entry; one older than the oldest entry means entries after it were trimmed (or
 * the channel expired and was made again), so it is not covered, as with job histories. `0-0` (the
 * channel was empty when the client connected) is covered as long as nothing was ever removed.
 */
function isCovered(afterId: string, bounds: StreamBounds | undefined): boolean {
  if (!bounds) return afterId === '0-0';
  if (compareStreamIds(afterId, bounds.lastGeneratedId) > 0) return false;
  if (compareStreamIds(bounds.maxDeletedId, afterId) > 0) return false;
  if (afterId === '0-0') return !bounds.removed;
  return compareStreamIds(afterId, bounds.firstId) >= 0;
}

/**
 * Reads several channels after their cursors (or just their ends, for a cursor of undefined) in
 * one transaction, so the bounds and the entries agree. All keys share the queue's hash tag.
 * With `count` it reads at most that many entries per channel: one page of a replay.
 */
export async function readChannels(
  redis: RedisClient,
  reads: readonly { key: string; afterId: string | undefined }[],
  count?: number,
): Promise<ChannelRead[]> {
  if (reads.length === 0) return [];
  const multi = redis.multi();
  for (const { key, afterId } of reads) {
    multi.exists(key);
    multi.xinfo('STREAM', key);
    if (afterId === undefined) continue;
    const start = afterId === '0-0' ? '-' : `(${afterId}`;
    if (count === undefined) multi.xrange(key, start, '+');
    else multi.xrange(key, start, '+', 'COUNT', count);
  }
  const results = await multi.exec();
  if (!results) throw new Error('channel read was aborted');
  let i = 0;
  return reads.map(({ afterId }) => {
    const [existsErr, exists] = results[i++] ?? [null, 0];
    const [infoErr, info] = results[i++] ?? [null, undefined];
    const [rangeErr, rows] = afterId !== undefined ? (results[i++] ?? [null, []]) : [null, []];
    if (existsErr) throw existsErr;
    const present = Number(exists) === 1;
    // XINFO fails on a missing key ("no such key"); only then is its error expected.
    if (present && infoErr) throw infoErr;
    if (rangeErr) throw rangeErr;
    const bounds = present ? boundsOf(info) : undefined;
    const endId = bounds?.lastGeneratedId ?? '0-0';
    if (afterId === undefined) return { entries: [], endId, covered: true };
    const covered = isCovered(afterId, bounds);
    return { entries: covered ? (rows as StreamEntry[]) : [], endId, covered };
  });
}
