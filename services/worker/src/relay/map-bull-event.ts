import type { LifecycleEventData, LifecycleEventName } from '@jobstream/contracts';
import { cancelledByOf, JOB_CANCELLED_EVENT, streamIdTime, type CancelledBy } from '@jobstream/runtime';
import { ATTEMPT_FAILED_EVENT } from './attempt-failed.js';

/** A BullMQ event stream entry, fields as a flat name/value list. */
export type BullEventEntry = [id: string, fields: string[]];

/** What the relay writes for one event: which job, the id (the BullMQ entry id), the name and data. */
export type RelayedEvent = {
  [N in LifecycleEventName]: { jobId: string; id: string; event: N; data: LifecycleEventData<N> };
}[LifecycleEventName];

/** Job hash fields some events need (read after the event, so only ones that no longer change). */
export interface FinishedJobFields {
  processedOn?: number;
  finishedOn?: number;
  attemptsMade?: number;
  /** Set by the worker on a job it stopped because it was cancelled: that `failed` is a `cancelled`. */
  cancelledBy?: CancelledBy;
}

const REMOVED_STATES = new Set(['waiting', 'delayed', 'prioritized']);

/** Whether an event is a job's last one: its outcome (a failure that will be retried is not). */
export function isFinalEvent(event: RelayedEvent): boolean {
  return event.event === 'completed' || event.event === 'cancelled' || (event.event === 'failed' && !event.data.willRetry);
}

/** Events that need the finished job's hash fields (duration, attempts). */
export function needsJobFields(eventName: string | undefined): boolean {
  return eventName === 'completed' || eventName === 'failed';
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Turns one BullMQ event (its id and parsed fields) into the lifecycle event clients see, or
 * undefined for events that are not part of a job's lifecycle (`added`, `drained`,
 * `duplicated`, `retries-exhausted`, ...). The data is typed by the contracts' event types; it
 * is built here field by field, so it needs no schema check on this hot path.
 * A `completed` whose result has more than `resultInlineMaxBytes` of JSON (0: no limit) carries
 * `resultOmitted` and `resultBytes` instead: the event is copied into the job's history, its
 * owner's channel and every stream message, while the job keeps the result for `GET /api/jobs/:id`.
 * BullMQ's field is the result's JSON already, so its size costs no parse, and an omitted result none.
 */
export function mapBullEvent(
  id: string,
  f: Record<string, string | undefined>,
  job: FinishedJobFields = {},
  resultInlineMaxBytes = 0,
): RelayedEvent | undefined {
  const jobId = f.jobId;
  if (!jobId) return undefined;
  const timestamp = streamIdTime(id);
  switch (f.event) {
    case 'waiting':
    case 'active':
    case 'stalled':
      return { jobId, id, event: f.event, data: { jobId, timestamp } };
    case 'delayed':
      return { jobId, id, event: 'delayed', data: { jobId, timestamp, delayedUntil: new Date(Number(f.delay ?? 0)).toISOString() } };
    case 'progress': {
      const progress = parseJson(f.data);
      const valid = typeof progress === 'number' || (progress !== null && typeof progress === 'object' && !Array.isArray(progress));
      return { jobId, id, event: 'progress', data: { jobId, timestamp, progress: valid ? (progress as number | Record<string, unknown>) : 0 } };
    }
    case 'completed': {
      const duration =
        job.processedOn !== undefined && job.finishedOn !== undefined ? Math.max(0, job.finishedOn - job.processedOn) : null;
      const resultBytes = f.returnvalue === undefined ? 0 : Buffer.byteLength(f.returnvalue);
      if (resultInlineMaxBytes > 0 && resultBytes > resultInlineMaxBytes) {
        return { jobId, id, event: 'completed', data: { jobId, timestamp, duration, resultOmitted: true, resultBytes } };
      }
      return { jobId, id, event: 'completed', data: { jobId, timestamp, result: parseJson(f.returnvalue), duration } };
    }
    case 'failed':
      if (job.cancelledBy) return { jobId, id, event: 'cancelled', data: { jobId, timestamp, by: job.cancelledBy, previousState: 'active' } };
      return {
        jobId,
        id,
        event: 'failed',
        data: { jobId, timestamp, error: f.failedReason ?? 'unknown error', attemptsMade: job.attemptsMade ?? 0, willRetry: false },
      };
    case ATTEMPT_FAILED_EVENT:
      return {
        jobId,
        id,
        event: 'failed',
        data: { jobId, timestamp, error: f.failedReason ?? 'unknown error', attemptsMade: Number(f.attemptsMade ?? 0), willRetry: true },
      };
    case JOB_CANCELLED_EVENT: {
      const by = cancelledByOf(f.by);
      const previousState = f.previousState ?? '';
      if (!by || !REMOVED_STATES.has(previousState)) return undefined;
      return {
        jobId,
        id,
        event: 'cancelled',
        data: { jobId, timestamp, by, previousState: previousState as 'waiting' | 'delayed' | 'prioritized' },
      };
    }
    default:
      return undefined;
  }
}
