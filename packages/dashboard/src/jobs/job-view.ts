import type { JobSnapshot, JobState, LifecycleEventName } from '@jobstream/contracts';
import type { JobMessageData } from '../live/messages.js';

/** One line of a job's event log, as this tab received it. */
export interface JobLogEntry {
  /** The stream's event id (the cursor), unique per event. */
  id: string;
  at: string;
  event: LifecycleEventName;
  /** The page's words: `progress`, `failed:`, `active`, ... */
  text: string;
  /** What the event carried, shown isolated after `text`: the progress, the error. */
  detail?: string;
  /** The page's words after `detail`: ` (will retry)`. */
  note?: string;
}

/** A job as the page renders it: its last snapshot with every stream event applied since. */
export interface JobView {
  jobId: string;
  type: string;
  /** `unknown` until the first snapshot or event arrived. */
  state: JobState;
  progress: number | Record<string, unknown> | undefined;
  attemptsMade: number;
  createdAt: string | undefined;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  /** The successful attempt's run time, from the `completed` event. */
  durationMs: number | undefined;
  result: unknown;
  /** The final error (state `failed`). */
  error: string | undefined;
  /** The last failed attempt's error while the job is retried. */
  lastAttemptError: string | undefined;
  /** When a retry is due (state `delayed`). */
  delayedUntil: string | undefined;
  log: JobLogEntry[];
  /** A snapshot is being fetched. */
  loading: boolean;
  /** Who cancelled it (state `failed`): its owner or an admin. */
  cancelledBy: 'owner' | 'admin' | undefined;
  /** A cancel or retry this page asked for and the api has not answered yet. */
  action: 'cancel' | 'retry' | undefined;
  /** Why the last cancel or retry was refused. */
  actionError: string | undefined;
}

/** "Cancelled by you" or "Cancelled by an admin". */
export function cancelledText(by: 'owner' | 'admin'): string {
  return by === 'admin' ? 'Cancelled by an admin' : 'Cancelled by you';
}

const MAX_LOG = 200;

export function isFinished(job: Pick<JobView, 'state'>): boolean {
  return job.state === 'completed' || job.state === 'failed';
}

export function emptyJob(jobId: string, type: string, createdAt?: string): JobView {
  return {
    jobId,
    type,
    state: 'unknown',
    progress: undefined,
    attemptsMade: 0,
    createdAt,
    startedAt: undefined,
    finishedAt: undefined,
    durationMs: undefined,
    result: undefined,
    error: undefined,
    lastAttemptError: undefined,
    delayedUntil: undefined,
    log: [],
    loading: false,
    cancelledBy: undefined,
    action: undefined,
    actionError: undefined,
  };
}

/**
 * The job once the api took its retry: waiting again, its outcome cleared, so the new run's events
 * (which `withEvent` applies to an unfinished job only) move it on. The log is kept.
 */
export function retried(job: JobView): JobView {
  return {
    ...job,
    state: 'waiting',
    progress: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    durationMs: undefined,
    result: undefined,
    error: undefined,
    lastAttemptError: undefined,
    cancelledBy: undefined,
  };
}

/** The job as `GET /api/jobs/:id` says it is now; the log is kept. */
export function withSnapshot(job: JobView, snapshot: JobSnapshot): JobView {
  return {
    ...job,
    type: snapshot.type,
    state: snapshot.state,
    progress: snapshot.progress,
    attemptsMade: snapshot.attemptsMade,
    createdAt: snapshot.createdAt,
    startedAt: snapshot.startedAt,
    finishedAt: snapshot.finishedAt,
    result: snapshot.result,
    error: snapshot.state === 'failed' ? snapshot.error : undefined,
    cancelledBy: snapshot.state === 'failed' ? snapshot.cancelledBy : undefined,
    lastAttemptError: snapshot.state === 'failed' ? undefined : snapshot.error,
    durationMs: job.durationMs,
  };
}

export function progressText(progress: JobView['progress']): string {
  if (progress === undefined) return '';
  if (typeof progress === 'number') return `${Math.round(progress)}%`;
  const text = JSON.stringify(progress);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function logText(event: LifecycleEventName, data: JobMessageData): Pick<JobLogEntry, 'text' | 'detail' | 'note'> {
  switch (event) {
    case 'progress':
      return { text: 'progress', detail: progressText(data.progress) };
    case 'failed': {
      const note = data.willRetry ? ' (will retry)' : '';
      return data.error !== undefined ? { text: 'failed:', detail: data.error, note } : { text: 'failed: unknown error', note };
    }
    case 'delayed':
      return { text: 'retry scheduled' };
    case 'cancelled':
      return { text: data.by === 'admin' ? 'cancelled by an admin' : 'cancelled by you' };
    default:
      return { text: event };
  }
}

/**
 * A lifecycle event from the stream applied to the job. A finished job stays finished: an event
 * replayed after a snapshot that already showed the end does not take it back.
 */
export function withEvent(job: JobView, event: LifecycleEventName, data: JobMessageData, id: string): JobView {
  const log = job.log.some((entry) => entry.id === id) ? job.log : [...job.log, { id, at: data.timestamp, event, ...logText(event, data) }].slice(-MAX_LOG);
  const next: JobView = { ...job, log, type: job.type === 'job' || job.type === '' ? data.jobType : job.type };
  next.createdAt ??= data.timestamp;
  if (isFinished(job)) return next;
  switch (event) {
    case 'waiting':
      next.state = 'waiting';
      break;
    case 'delayed':
      next.state = 'delayed';
      next.delayedUntil = data.delayedUntil;
      break;
    case 'active':
      next.state = 'active';
      next.startedAt = data.timestamp;
      next.delayedUntil = undefined;
      break;
    case 'progress':
      if (data.progress !== undefined) next.progress = data.progress;
      if (next.state === 'waiting' || next.state === 'unknown') next.state = 'active';
      break;
    case 'stalled':
      next.state = 'waiting';
      break;
    case 'completed':
      next.state = 'completed';
      next.result = data.result;
      next.finishedAt = data.timestamp;
      next.durationMs = typeof data.duration === 'number' ? data.duration : undefined;
      if (typeof next.progress === 'number' || next.progress === undefined) next.progress = 100;
      next.lastAttemptError = undefined;
      break;
    case 'failed':
      if (typeof data.attemptsMade === 'number') next.attemptsMade = data.attemptsMade;
      if (data.willRetry) {
        next.lastAttemptError = data.error;
      } else {
        next.state = 'failed';
        next.error = data.error;
        next.finishedAt = data.timestamp;
      }
      break;
    case 'cancelled':
      next.state = 'failed';
      next.cancelledBy = data.by === 'admin' ? 'admin' : 'owner';
      next.error = cancelledText(next.cancelledBy);
      next.finishedAt = data.timestamp;
      next.lastAttemptError = undefined;
      break;
  }
  return next;
}
