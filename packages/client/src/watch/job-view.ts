import type { JobSnapshot, LifecycleEvent } from '../contract-types.js';

/**
 * The job as a watcher knows it after one more lifecycle event: what the events say moves the
 * snapshot forward (state, progress, result, error, times). `GET /api/jobs/:id` stays the
 * authority; this only saves a request per event.
 */
export function applyEvent(job: JobSnapshot, e: LifecycleEvent): JobSnapshot {
  switch (e.event) {
    case 'waiting':
      return { ...job, state: 'waiting' };
    case 'delayed':
      return { ...job, state: 'delayed' };
    case 'active':
      return { ...job, state: 'active', startedAt: job.startedAt ?? e.data.timestamp };
    case 'progress':
      return { ...job, progress: e.data.progress };
    case 'stalled':
      // The job goes back to waiting for another worker (docs/api.md).
      return { ...job, state: 'waiting' };
    case 'completed':
      return { ...job, state: 'completed', result: e.data.result, finishedAt: e.data.timestamp };
    case 'failed':
      return e.data.willRetry
        ? { ...job, error: e.data.error, attemptsMade: e.data.attemptsMade }
        : { ...job, state: 'failed', error: e.data.error, attemptsMade: e.data.attemptsMade, finishedAt: e.data.timestamp };
    case 'cancelled':
      // A running job ends failed, as its snapshot says; one that never ran is gone, and this is the last word on it.
      return { ...job, state: 'failed', error: `cancelled by ${e.data.by === 'admin' ? 'an admin' : 'its owner'}`, cancelledBy: e.data.by, finishedAt: e.data.timestamp };
  }
}

/**
 * The job as it was before its first event: where a replay of its whole history starts from.
 * Static fields (id, type, createdAt) stay; what the events will bring back is taken out.
 */
export function rewind(job: JobSnapshot): JobSnapshot {
  const { result: _result, error: _error, finishedAt: _finishedAt, startedAt: _startedAt, cancelledBy: _cancelledBy, ...rest } = job;
  return { ...rest, state: 'waiting', progress: 0, attemptsMade: 0 };
}

/** True when nothing more will happen to the job. */
export function isFinished(job: Pick<JobSnapshot, 'state'>): boolean {
  return job.state === 'completed' || job.state === 'failed';
}

/** Structural equality of two JSON values (progress objects, results). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
