import type { RedisClient } from '../redis.js';
import { isCursorCovered, streamBoundsOf } from '../stream-bounds.js';
import type { StreamEntry } from '../stream-format.js';

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
    const bounds = present ? streamBoundsOf(info) : undefined;
    const endId = bounds?.lastGeneratedId ?? '0-0';
    if (afterId === undefined) return { entries: [], endId, covered: true };
    const covered = isCursorCovered(afterId, bounds);
    return { entries: covered ? (rows as StreamEntry[]) : [], endId, covered };
  });
}
