import { isIssuedJobId, jobStateSchema, type JobSnapshot, type QueueStats } from '@jobstream/contracts';
import type { JobstreamKeys, RedisClient } from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { hasRole, type Principal } from '../auth/principal.js';
import { readOwnedJob, type OwnedJobFields } from './owned-job.js';

function iso(ms: number | undefined): string | undefined {
  return ms ? new Date(ms).toISOString() : undefined;
}

/** BullMQ stores the result as JSON; anything else is shown as it is stored. */
function parseResult(raw: string | null): unknown {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function parseProgress(raw: string | null): JobSnapshot['progress'] {
  try {
    const value: unknown = JSON.parse(raw ?? '0');
    if (typeof value === 'number' || (value !== null && typeof value === 'object' && !Array.isArray(value))) {
      return value as JobSnapshot['progress'];
    }
  } catch {
    // A progress BullMQ did not write: shown as none.
  }
  return 0;
}

const int = (raw: string | null): number | undefined => (raw === null ? undefined : Number.parseInt(raw, 10) || undefined);

/** Reads jobs and counts from BullMQ; the api's only view of job state. */
export class JobStore {
  constructor(
    private readonly queue: Queue,
    private readonly redis: RedisClient,
    private readonly keys: Pick<JobstreamKeys, 'job'>,
  ) {}

  /**
   * The job as it is now, or undefined when there is no such job (never was, expired, or an id that
   * cannot name a job) or, with a `viewer`, when the viewer may not see it: another user's job is
   * answered exactly like a missing one, so ids cannot be probed. Ownership is settled inside Redis
   * before anything else is read or sent, so the answer for another user's job costs what the answer
   * for an unknown one costs, whatever the size of its payload and result.
   */
  async getSnapshot(jobId: string, viewer?: Principal): Promise<JobSnapshot | undefined> {
    if (!isIssuedJobId(jobId)) return undefined;
    const owner = viewer && !hasRole(viewer, 'admin') ? viewer.userId : undefined;
    const fields = await readOwnedJob(this.redis, this.keys.job(jobId), owner);
    if (!fields) return undefined;
    const state = jobStateSchema.catch('unknown').parse(await this.queue.getJobState(jobId));
    // The job finished between the two reads: read it again, so it is never shown completed without its result.
    const current = state === 'completed' && fields.returnvalue === null ? ((await readOwnedJob(this.redis, this.keys.job(jobId), owner)) ?? fields) : fields;
    return toSnapshot(jobId, state, current);
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

function toSnapshot(jobId: string, state: JobSnapshot['state'], fields: OwnedJobFields): JobSnapshot {
  const snapshot: JobSnapshot = {
    jobId,
    type: fields.name ?? 'unknown',
    state,
    progress: parseProgress(fields.progress),
    attemptsMade: int(fields.attemptsMade) ?? 0,
    createdAt: iso(int(fields.timestamp)) ?? new Date(0).toISOString(),
  };
  if (state === 'completed') snapshot.result = parseResult(fields.returnvalue);
  if (fields.failedReason) snapshot.error = fields.failedReason;
  const startedAt = iso(int(fields.processedOn));
  const finishedAt = iso(int(fields.finishedOn));
  if (startedAt) snapshot.startedAt = startedAt;
  if (finishedAt) snapshot.finishedAt = finishedAt;
  return snapshot;
}
