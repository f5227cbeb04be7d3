import { lifecycleEventSchemas, type LifecycleEventName } from '@jobstream/contracts';
import { streamIdTime } from '@jobstream/runtime';
import { ATTEMPT_FAILED_EVENT } from './attempt-failed.js';

/** A BullMQ event stream entry, fields as a flat name/value list. */
export type BullEventEntry = [id: string, fields: string[]];

/** What the relay writes for one event: which job, the id (the BullMQ entry id), the name and data. */
export interface RelayedEvent {
  jobId: string;
  id: string;
  event: LifecycleEventName;
  data: Record<string, unknown>;
}

/** Job hash fields some events need (read after the event, so only ones that no longer change). */
export interface FinishedJobFields {
  processedOn?: number;
  finishedOn?: number;
  attemptsMade?: number;
}

export function entryFields(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
  return out;
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
 * Turns one BullMQ event into the lifecycle event clients see, or undefined for events that
 * are not part of a job's lifecycle (`added`, `drained`, `duplicated`, `retries-exhausted`, ...).
 */
export function mapBullEvent([id, rawFields]: BullEventEntry, job: FinishedJobFields = {}): RelayedEvent | undefined {
  const f = entryFields(rawFields);
  const jobId = f.jobId;
  if (!jobId) return undefined;
  const base = { jobId, timestamp: streamIdTime(id) };
  const build = <N extends LifecycleEventName>(event: N, extra: Record<string, unknown> = {}): RelayedEvent => ({
    jobId,
    id,
    event,
    data: lifecycleEventSchemas[event].parse({ ...base, ...extra }) as Record<string, unknown>,
  });

  switch (f.event) {
    case 'waiting':
    case 'active':
    case 'stalled':
      return build(f.event);
    case 'delayed':
      return build('delayed', { delayedUntil: new Date(Number(f.delay ?? 0)).toISOString() });
    case 'progress': {
      const progress = parseJson(f.data);
      return build('progress', { progress: typeof progress === 'number' || (progress && typeof progress === 'object') ? progress : 0 });
    }
    case 'completed': {
      const duration =
        job.processedOn !== undefined && job.finishedOn !== undefined ? Math.max(0, job.finishedOn - job.processedOn) : null;
      return build('completed', { result: parseJson(f.returnvalue), duration });
    }
    case 'failed':
      return build('failed', { error: f.failedReason ?? 'unknown error', attemptsMade: job.attemptsMade ?? 0, willRetry: false });
    case ATTEMPT_FAILED_EVENT:
      return build('failed', {
        error: f.failedReason ?? 'unknown error',
        attemptsMade: Number(f.attemptsMade ?? 0),
        willRetry: true,
      });
    default:
      return undefined;
  }
}
