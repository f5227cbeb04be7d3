import { LUA_STREAM_ID_AFTER, type JobstreamKeys, type RedisClient, registerScript } from '@jobstream/runtime';

/**
 * Finished jobs are counted in 10-second buckets (one small hash each) rather than one sorted-set
 * member per job: memory stays flat however many jobs finish, and the failure rate is exact to
 * within one bucket at the window's old edge.
 */
export const BUCKET_MS = 10_000;

export type Outcome = 'completed' | 'failed';

/** One finished job to count: the feed entry it came from and when it finished. */
export interface OutcomeEntry {
  feedId: string;
  at: number;
  outcome: Outcome;
}

/**
 * Counts a batch's outcomes and moves the metrics cursor in one script. An entry at or before the
 * stored cursor was counted already (a crash before the cursor moved, or a second metrics
 * service), so the counts are exact however often a batch is replayed. Returns the cursor as it
 * was before, so the caller knows which entries were new.
 */
const APPLY_SCRIPT = `
${LUA_STREAM_ID_AFTER}
local cursor = redis.call('GET', KEYS[1]) or '0-0'
for i = 3, #ARGV, 3 do
  if after(ARGV[i], cursor) then
    redis.call('HINCRBY', ARGV[i + 1], ARGV[i + 2], 1)
    redis.call('PEXPIRE', ARGV[i + 1], ARGV[1])
  end
end
if after(ARGV[2], cursor) then redis.call('SET', KEYS[1], ARGV[2]) end
return cursor
`;

type ApplyClient = RedisClient & { jobstreamApplyOutcomes(...args: string[]): Promise<string> };

function bucketOf(at: number): number {
  return Math.floor(at / BUCKET_MS) * BUCKET_MS;
}

const defineApplyOutcomes = registerScript('jobstreamApplyOutcomes', { numberOfKeys: 1, lua: APPLY_SCRIPT });

/** Counts `entries` and sets the cursor to `lastFeedId`; returns the cursor before the call. */
export async function applyOutcomes(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'metricsCursor' | 'outcomes'>,
  windowMs: number,
  lastFeedId: string,
  entries: OutcomeEntry[],
): Promise<string> {
  defineApplyOutcomes(redis);
  const args = [keys.metricsCursor, String(windowMs + 2 * BUCKET_MS), lastFeedId];
  for (const e of entries) args.push(e.feedId, keys.outcomes(bucketOf(e.at)), e.outcome);
  return (redis as ApplyClient).jobstreamApplyOutcomes(...args);
}

/** Finished jobs within the window ending at `now` (to bucket precision). */
export async function readOutcomeWindow(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'outcomes'>,
  windowMs: number,
  now: number,
): Promise<Record<Outcome, number>> {
  const pipeline = redis.pipeline();
  for (let bucket = bucketOf(now - windowMs); bucket <= now; bucket += BUCKET_MS) {
    pipeline.hmget(keys.outcomes(bucket), 'completed', 'failed');
  }
  const totals = { completed: 0, failed: 0 };
  for (const [err, values] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    const [completed, failed] = values as (string | null)[];
    totals.completed += Number(completed ?? 0);
    totals.failed += Number(failed ?? 0);
  }
  return totals;
}
