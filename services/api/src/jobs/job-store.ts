import { isIssuedJobId, type JobSnapshot, type QueueStats } from '@jobstream/contracts';
import type { HistoryRead, JobstreamKeys, RedisClient } from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { hasRole, type Principal } from '../auth/principal.js';
import { readOwnedJob, type OwnedJob, type QueueStateKeys } from './owned-job.js';

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

/** A job as a stream opens on it: the snapshot, and the first page of its history after the client's cursor. */
export interface JobStreamStart {
  snapshot: JobSnapshot;
  history: HistoryRead;
}

/** Reads jobs and counts from BullMQ; the api's only view of job state. */
export class JobStore {
  private readonly states: QueueStateKeys;

  constructor(
    private readonly queue: Queue,
    private readonly redis: RedisClient,
    private readonly keys: Pick<JobstreamKeys, 'job' | 'history'>,
  ) {
    const key = (state: string): string => queue.toKey(state);
    this.states = {
      completed: key('completed'),
      failed: key('failed'),
      delayed: key('delayed'),
      prioritized: key('prioritized'),
      'waiting-children': key('waiting-children'),
      active: key('active'),
      wait: key('wait'),
      paused: key('paused'),
    };
  }

  /**
   * The job as it is now, or undefined when there is no such job (never was, expired, or an id that
   * cannot name a job) or, with a `viewer`, when the viewer may not see it: another user's job is
   * answered exactly like a missing one, so ids cannot be probed. Ownership is settled inside Redis
   * before anything else is read or sent, so the answer for another user's job costs what the answer
   * for an unknown one costs, whatever the size of its payload and result. One round trip.
   */
  async getSnapshot(jobId: string, viewer?: Principal): Promise<JobSnapshot | undefined> {
    if (!isIssuedJobId(jobId)) return undefined;
    const job = await readOwnedJob(this.redis, { job: this.keys.job(jobId), states: this.states }, jobId, ownerFilter(viewer));
    return job && toSnapshot(jobId, job);
  }

  /**
   * What a stream of the job sends first: the snapshot (as `getSnapshot`, with the same ownership
   * rule) and up to `count` history entries after `afterId` with the bounds of what is stored
   * (as `readHistory`), read in one step, one round trip.
   */
  async getStreamStart(jobId: string, viewer: Principal, afterId: string | undefined, count: number): Promise<JobStreamStart | undefined> {
    if (!isIssuedJobId(jobId)) return undefined;
    const history = { key: this.keys.history(jobId), afterId, count };
    const job = await readOwnedJob(this.redis, { job: this.keys.job(jobId), states: this.states }, jobId, ownerFilter(viewer), history);
    if (!job?.history) return undefined;
    return { snapshot: toSnapshot(jobId, job), history: job.history };
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

/** Whose jobs `viewer` may see: undefined for every job (no viewer, or an admin). */
const ownerFilter = (viewer: Principal | undefined): string | undefined => (viewer && !hasRole(viewer, 'admin') ? viewer.userId : undefined);

function toSnapshot(jobId: string, { state, fields, cancelledBy }: OwnedJob): JobSnapshot {
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
  if (cancelledBy && state === 'failed') snapshot.cancelledBy = cancelledBy;
  const startedAt = iso(int(fields.processedOn));
  const finishedAt = iso(int(fields.finishedOn));
  if (startedAt) snapshot.startedAt = startedAt;
  if (finishedAt) snapshot.finishedAt = finishedAt;
  return snapshot;
}
