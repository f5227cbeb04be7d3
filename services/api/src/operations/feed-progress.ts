import type { FeedProgressResponse } from '@jobstream/contracts';
import { streamIdMs, streamIdTime, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';

/** Most feed entries counted behind the cursor: enough to tell "a little" from "far behind". */
export const FEED_BEHIND_COUNT_MAX = 10_000;

/** How far the metrics service's cursor is behind the newest entry of the live feed. */
export async function readFeedProgress(redis: RedisClient, keys: Pick<JobstreamKeys, 'feed' | 'metricsCursor'>): Promise<FeedProgressResponse> {
  const [newest, stored] = await Promise.all([redis.xrevrange(keys.feed, '+', '-', 'COUNT', 1) as Promise<[string, string[]][]>, redis.get(keys.metricsCursor)]);
  // Only the metrics service writes it; anything but a stream id reads as "not started".
  const cursor = stored !== null && /^\d+-\d+$/.test(stored) ? stored : null;
  const newestId = newest[0]?.[0] ?? null;
  let behindEntries = 0;
  if (newestId !== null) {
    const after = await redis.xrange(keys.feed, cursor === null ? '-' : `(${cursor}`, '+', 'COUNT', FEED_BEHIND_COUNT_MAX);
    behindEntries = after.length;
  }
  const behindMs = newestId === null ? 0 : Math.max(0, streamIdMs(newestId) - (cursor === null ? streamIdMs(newestId) : streamIdMs(cursor)));
  return {
    newestId,
    newestAt: newestId === null ? null : streamIdTime(newestId),
    metricsCursor: cursor,
    metricsCursorAt: cursor === null ? null : streamIdTime(cursor),
    behindEntries,
    behindMs: behindEntries === 0 ? 0 : behindMs,
  };
}
