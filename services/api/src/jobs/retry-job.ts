import type { EnqueueResponse } from '@jobstream/contracts';
import { JOB_CANCELLED_FIELD } from '@jobstream/runtime';
import { Job } from 'bullmq';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import { controlledJob, type JobControlDeps } from './cancel-job.js';

export interface RetryJobOptions {
  /** `/api`: where the job's links point. */
  basePath: string;
  /** Refuses new work (the kill-switch, the rate limit): a retry is new work. */
  admit: () => Promise<void>;
  /** Counts the job against its owner's quotas again, or refuses; returns how to take the count back. */
  reserve: (claim: { owner: string; jobId: string; payloadBytes: number }) => Promise<(() => Promise<void>) | undefined>;
}

const notRetryable = (jobId: string, state: string): ApiError =>
  new ApiError(409, 'JOB_NOT_RETRYABLE', `Job "${jobId}" is ${state}; only a failed job can be retried`);

/**
 * Runs a failed job again under the same id (BullMQ's `retry`): it goes back to waiting and its
 * history goes on, so a stream opened with the last cursor sees `waiting`, `active`, ... next.
 */
export async function retryJob(deps: JobControlDeps, caller: Principal, jobId: string, options: RetryJobOptions): Promise<EnqueueResponse> {
  const job = await controlledJob(deps, caller, jobId);
  if (job.state !== 'failed') throw notRetryable(jobId, job.state);
  await options.admit();
  // What the quotas charge a new job for its payload: the stored data is the payload and a few ids.
  const payloadBytes = await deps.redis.hstrlen(deps.keys.job(jobId), 'data');
  const undo = await options.reserve({ owner: job.owner, jobId, payloadBytes });
  try {
    const stored = await Job.fromId(deps.queue, jobId);
    if (!stored) throw ApiError.jobNotFound(jobId);
    // A cancelled job runs again as any other: its next `failed` is a failure, not a cancel.
    await deps.redis.hdel(deps.keys.job(jobId), JOB_CANCELLED_FIELD);
    // BullMQ checks in its script that the job is still failed (another retry may have won the race).
    await stored.retry('failed').catch(async (err: unknown) => {
      const now = await deps.store.getSnapshot(jobId);
      if (now && now.state !== 'failed') throw notRetryable(jobId, now.state);
      throw err;
    });
  } catch (err) {
    await undo?.().catch(() => undefined);
    throw err;
  }
  deps.logger.info({ jobId, owner: job.owner, by: job.by }, 'failed job retried');
  const base = `${options.basePath}/jobs/${jobId}`;
  return { jobId, type: job.type, state: 'waiting', links: { self: base, events: `${base}/events` } };
}
