import { registerScript } from '@jobstream/runtime';
import type { JobstreamKeys, RedisClient } from '@jobstream/runtime';
import { pageSortedSet, type JobIndexPage, type JobIndexPosition } from './sorted-set-page.js';

export type { JobIndexPage, JobIndexPosition } from './sorted-set-page.js';

/** Most jobs one user's index keeps by default; older ones fall off first. */
export const JOB_INDEX_MAX_ITEMS = 1_000;

export interface JobIndexOptions {
  /**
   * The queue's retention (`JOB_RETENTION_SECONDS`): entries created longer ago are trimmed on each
   * write, and an index nobody wrote to for this long expires (every job in it is that old too).
   */
  retentionSeconds: number;
  /** Most entries per user; the newest are kept. Default `JOB_INDEX_MAX_ITEMS` (1,000). */
  maxItems?: number;
}

/**
 * Removes the ids whose job hash is gone, and only those: a job re-created under the same id (an
 * idempotency key reused after the old job expired) between the reader's look and this script
 * keeps its entry. KEYS: the index, then each job's hash. ARGV: the job ids. Returns how many it removed.
 */
const FORGET_GONE_SCRIPT = `
local removed = 0
for i, id in ipairs(ARGV) do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], id)
  end
end
return removed
`;

/**
 * KEYS[1] the index. ARGV: job id, its creation time (ms), entries older than this (ms) are trimmed,
 * most entries, the index's TTL (s). A script rather than a MULTI: the same steps, atomic, in one
 * round trip, without building an ioredis pipeline per submission.
 */
const RECORD_SCRIPT = `
-- Trimmed before the add: a stale entry of an expired job whose id comes back (the same
-- idempotency key) is gone first, so NX does not keep the old job's place for the new one.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
-- NX: an idempotent resubmission (or a concurrent duplicate BullMQ folded) keeps its place.
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
`;

type ScriptClient = RedisClient & {
  jobstreamJobIndexForgetGone(...args: (string | number)[]): Promise<number>;
  jobstreamJobIndexRecord(key: string, jobId: string, createdAtMs: string, trimBeforeMs: string, maxItems: string, ttlS: string): Promise<number>;
};

const defineJobIndexForgetGone = registerScript('jobstreamJobIndexForgetGone', { lua: FORGET_GONE_SCRIPT });
const defineJobIndexRecord = registerScript('jobstreamJobIndexRecord', { numberOfKeys: 1, lua: RECORD_SCRIPT });

function scripts(redis: RedisClient): ScriptClient {
  defineJobIndexForgetGone(redis);
  defineJobIndexRecord(redis);
  return redis as ScriptClient;
}

/**
 * Each user's jobs in a sorted set (`keys.userJobs`), scored by creation time, so "my jobs, newest
 * first" is a range read instead of a scan of the queue. It lives under the queue's hash tag, in
 * the slot of the job hashes it points at. BullMQ removes jobs on its own schedule, so an entry can
 * outlive its job; readers skip those and `forgetGone` drops them.
 */
export class JobIndex {
  private readonly retentionMs: number;
  private readonly maxItems: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<JobstreamKeys, 'userJobs' | 'job'>,
    private readonly options: JobIndexOptions,
  ) {
    this.retentionMs = options.retentionSeconds * 1_000;
    this.maxItems = options.maxItems ?? JOB_INDEX_MAX_ITEMS;
  }

  /** Adds a job to its owner's index (again: no change), then bounds the index. One round trip. */
  async record(owner: string, jobId: string, createdAtMs: number, now = Date.now()): Promise<void> {
    await scripts(this.redis).jobstreamJobIndexRecord(
      this.keys.userJobs(owner),
      jobId,
      String(createdAtMs),
      String(now - this.retentionMs),
      String(this.maxItems),
      String(this.options.retentionSeconds),
    );
  }

  /** Up to `limit` ids newest first, after `after` (exclusive), and where the next page starts. */
  async page(owner: string, options: { limit: number; after?: JobIndexPosition | undefined }): Promise<JobIndexPage> {
    return pageSortedSet(this.redis, this.keys.userJobs(owner), options);
  }

  /** Drops the ids of jobs BullMQ no longer has; returns how many it dropped. */
  async forgetGone(owner: string, jobIds: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    return scripts(this.redis).jobstreamJobIndexForgetGone(
      1 + jobIds.length,
      this.keys.userJobs(owner),
      ...jobIds.map((id) => this.keys.job(id)),
      ...jobIds,
    );
  }
}
