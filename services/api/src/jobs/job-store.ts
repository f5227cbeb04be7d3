import { jobStateSchema, type JobSnapshot, type QueueStats } from '@jobstream/contracts';
import { Job, type Queue } from 'bullmq';
import { hasRole, type Principal } from '../auth/principal.js';

function iso(ms: number | undefined): string | undefined {
  return ms ? new Date(ms).toISOString() : undefined;
}

/** Reads jobs and counts from BullMQ; the api's only view of job state. */
export class JobStore {
  constructor(private readonly queue: Queue) {}

  /**
   * The job as it is now, or undefined when there is no such job (never was, or expired) or, with
   * a `viewer`, when the viewer may not see it: another user's job is answered exactly like a
   * missing one, so ids cannot be probed.
   */
  async getSnapshot(jobId: string, viewer?: Principal): Promise<JobSnapshot | undefined> {
    // State first, then the job: a job that finishes in between is read with its result, rather
    // than shown as completed without one.
    const state = jobStateSchema.catch('unknown').parse(await this.queue.getJobState(jobId));
    const job = await Job.fromId<{ owner?: unknown }>(this.queue, jobId);
    if (!job) return undefined;
    if (viewer && !hasRole(viewer, 'admin') && job.data?.owner !== viewer.userId) return undefined;
    const progress = typeof job.progress === 'number' || (job.progress && typeof job.progress === 'object') ? job.progress : 0;
    const snapshot: JobSnapshot = {
      jobId,
      type: job.name,
      state,
      progress: progress as JobSnapshot['progress'],
      attemptsMade: job.attemptsMade,
      createdAt: iso(job.timestamp) ?? new Date(0).toISOString(),
    };
    if (state === 'completed') snapshot.result = job.returnvalue;
    if (job.failedReason) snapshot.error = job.failedReason;
    const startedAt = iso(job.processedOn);
    const finishedAt = iso(job.finishedOn);
    if (startedAt) snapshot.startedAt = startedAt;
    if (finishedAt) snapshot.finishedAt = finishedAt;
    return snapshot;
  }

  /** Job counts per state. */
  async getStats(): Promise<QueueStats> {
    const counts = await this.queue.getJobCounts(
      'waiting',
      'prioritized',
      'delayed',
      'active',
      'completed',
      'failed',
      'waiting-children',
    );
    return { queue: this.queue.name, counts };
  }
}
