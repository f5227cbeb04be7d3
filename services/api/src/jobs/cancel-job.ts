import type { CancelJobResponse } from '@jobstream/contracts';
import { publishRemovedJobCancel, type CancelledBy, type CancelMessage, type JobstreamKeys, type Logger, type RedisClient } from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import { readJobRows } from './job-rows.js';
import type { JobStore } from './job-store.js';

export interface JobControlDeps {
  queue: Queue;
  store: JobStore;
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'job' | 'bullEvents' | 'cancelRequest' | 'cancelChannel' | 'unfinishedJobs'>;
  /** EVENTS_STREAM_MAX_LEN: the cancel event of a removed job is trimmed into BullMQ's stream like its own. */
  eventsMaxLen: number;
  /** How long a cancel request waits for a worker to take the job (JOB_RETENTION_SECONDS). */
  retentionSeconds: number;
  logger: Logger;
}

/** A job the caller may control: its state, owner and type. */
export interface ControlledJob {
  jobId: string;
  state: string;
  owner: string;
  type: string;
  by: CancelledBy;
}

/**
 * The job as the caller may act on it, or a 404 JOB_NOT_FOUND when there is none or it is someone
 * else's (an admin may act on any). Ownership is checked by the snapshot read, in Redis.
 */
export async function controlledJob(deps: Pick<JobControlDeps, 'store' | 'redis' | 'keys'>, caller: Principal, jobId: string): Promise<ControlledJob> {
  const snapshot = await deps.store.getSnapshot(jobId, caller);
  const [row] = snapshot ? await readJobRows(deps.redis, deps.keys.job, [jobId]) : [];
  if (!snapshot || !row?.owner || snapshot.state === 'unknown') throw ApiError.jobNotFound(jobId);
  return { jobId, state: snapshot.state, owner: row.owner, type: row.type, by: row.owner === caller.userId ? 'owner' : 'admin' };
}

const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized']);

/**
 * Cancels a job: one that has not started is removed (and its stream told), a running one is asked
 * to stop. Asking again while it stops is answered the same; a finished job is a 409.
 */
export async function cancelJob(deps: JobControlDeps, caller: Principal, jobId: string): Promise<CancelJobResponse> {
  const job = await controlledJob(deps, caller, jobId);
  if (job.state === 'completed' || job.state === 'failed') {
    throw new ApiError(409, 'JOB_ALREADY_FINISHED', `Job "${jobId}" already ${job.state}; there is nothing to cancel`);
  }
  const log = deps.logger.child({ jobId, owner: job.owner, by: job.by });
  const requestKey = deps.keys.cancelRequest(jobId);
  if (NOT_STARTED.has(job.state)) {
    // The request key, set only where there is none, makes one canceller the one that removes the
    // job: BullMQ's remove answers 1 for a job that is gone too, and two removals would announce
    // two cancels. It also stops the job should a worker take it before the removal.
    if ((await deps.redis.set(requestKey, job.by, 'EX', deps.retentionSeconds, 'NX')) !== 'OK') {
      // Another cancel is under way (or a stop was asked for before the job went back to waiting).
      return { jobId, action: (await deps.store.getSnapshot(jobId)) ? 'stop_requested' : 'removed' };
    }
    // BullMQ refuses (0) to remove a job a worker holds the lock of: it became active since the read.
    if ((await deps.queue.remove(jobId)) === 1) {
      const previousState = job.state as 'waiting' | 'delayed' | 'prioritized';
      await publishRemovedJobCancel(deps.redis, deps.keys.bullEvents, deps.eventsMaxLen, { jobId, owner: job.owner, jobType: job.type, by: job.by, previousState });
      // The job is gone: one made later under the same id (its idempotency key sent again) must not
      // find the request, and it no longer counts against its owner's unfinished jobs.
      await Promise.all([deps.redis.del(requestKey), deps.redis.zrem(deps.keys.unfinishedJobs(job.owner), jobId)]).catch((err: unknown) =>
        log.warn({ err }, 'could not clear what a removed job left'),
      );
      log.info({ previousState }, 'job cancelled before it ran: removed');
      return { jobId, action: 'removed' };
    }
  }
  // The key first: a worker that takes the job after the message went out still finds it.
  const message: CancelMessage = { jobId, by: job.by };
  await deps.redis.set(requestKey, job.by, 'EX', deps.retentionSeconds);
  await deps.redis.publish(deps.keys.cancelChannel, JSON.stringify(message));
  log.info('asked the worker running the job to stop it');
  return { jobId, action: 'stop_requested' };
}
