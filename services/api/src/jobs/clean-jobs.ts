import type { CleanJobsResponse } from '@jobstream/contracts';
import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { readJobRows } from './job-rows.js';

export interface CleanJobsDeps {
  queue: Queue;
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'job' | 'history' | 'userJobs' | 'cancelRequest'>;
  logger: Logger;
}

/** Ids of jobs a page of the owner lookup and the key deletions handles at once. */
const BATCH = 500;

/**
 * Removes up to `limit` jobs that finished (`state`) at least `olderThanSeconds` ago, oldest first
 * (BullMQ's `queue.clean`), and what jobstream keeps for each: its history, its entry in its owner's
 * job index and a cancel request left behind. The owners are read before BullMQ deletes the hashes
 * that name them; the candidates are the ones `clean` takes (the same range of the same set).
 */
export async function cleanJobs(
  deps: CleanJobsDeps,
  request: { state: 'completed' | 'failed'; olderThanSeconds: number; limit: number },
): Promise<CleanJobsResponse> {
  const graceMs = request.olderThanSeconds * 1_000;
  const candidates = await deps.redis.zrangebyscore(deps.queue.toKey(request.state), 0, Date.now() - graceMs, 'LIMIT', 0, request.limit);
  const owners = new Map<string, string>();
  for (let i = 0; i < candidates.length; i += BATCH) {
    const ids = candidates.slice(i, i + BATCH);
    const rows = await readJobRows(deps.redis, deps.keys.job, ids);
    rows.forEach((row, j) => {
      if (row?.owner) owners.set(ids[j] as string, row.owner);
    });
  }
  const removed = await deps.queue.clean(graceMs, request.limit, request.state);
  for (let i = 0; i < removed.length; i += BATCH) {
    const pipeline = deps.redis.pipeline();
    for (const jobId of removed.slice(i, i + BATCH)) {
      pipeline.del(deps.keys.history(jobId), deps.keys.cancelRequest(jobId));
      const owner = owners.get(jobId);
      // A job that finished just now, within a zero age, was not among the candidates: its index
      // entry is dropped by the next listing of its owner's jobs, which skips removed jobs.
      if (owner !== undefined) pipeline.zrem(deps.keys.userJobs(owner), jobId);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) deps.logger.warn({ err: failed[0] }, 'could not remove everything kept for cleaned jobs');
  }
  deps.logger.warn({ state: request.state, olderThanSeconds: request.olderThanSeconds, removed: removed.length }, 'finished jobs cleaned by an admin');
  return { state: request.state, removed: removed.length };
}
