import { z } from 'zod';
import { appendQueueEvent } from './queue-events.js';
import type { RedisClient } from './redis.js';

/**
 * How a cancel travels. The api answers the request; the job may be held by any worker process:
 * - a job that had not started is removed by the api, which then adds `JOB_CANCELLED_EVENT` (with
 *   the owner and type, since the job hash is gone) to BullMQ's event stream for the relay;
 * - a running job gets a request key (`keys.cancelRequest`) and a message on `keys.cancelChannel`.
 *   The worker holding it aborts its signal; a worker that starts it later finds the key. The
 *   worker marks the job hash (`JOB_CANCELLED_FIELD`) before BullMQ fails it, so the relay turns
 *   that `failed` into `cancelled`.
 */
export const JOB_CANCELLED_EVENT = 'jobstream:cancelled';

/** The job hash field that says a failed job was cancelled, and by whom (`owner` or `admin`). */
export const JOB_CANCELLED_FIELD = 'jsCancelledBy';

export const cancelledBySchema = z.enum(['owner', 'admin']);
export type CancelledBy = z.infer<typeof cancelledBySchema>;

/**
 * Who cancelled, from a stored value (a hash field, a request key, an abort reason), or undefined
 * for anything else. Nearly every job was never cancelled, so an absent value (null, undefined,
 * false from Lua) is answered without a parse, whose failure would build an issue each time.
 */
export function cancelledByOf(value: unknown): CancelledBy | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  const parsed = cancelledBySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** A message on the cancel channel. */
export const cancelMessageSchema = z.object({ jobId: z.string().min(1).max(128), by: cancelledBySchema });
export type CancelMessage = z.infer<typeof cancelMessageSchema>;

/** A cancel message, or undefined for anything else published on the channel. */
export function parseCancelMessage(raw: string): CancelMessage | undefined {
  try {
    const parsed = cancelMessageSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A job removed before it ran, as the relay needs it: its owner and type travel in the event. */
export interface RemovedJobCancel {
  jobId: string;
  owner: string;
  jobType: string;
  by: CancelledBy;
  previousState: 'waiting' | 'delayed' | 'prioritized';
}

/** Appends the cancel of a removed job to BullMQ's event stream, trimmed like BullMQ trims it. */
export async function publishRemovedJobCancel(redis: RedisClient, eventsKey: string, maxLen: number, cancel: RemovedJobCancel): Promise<void> {
  await appendQueueEvent(redis, eventsKey, maxLen, JOB_CANCELLED_EVENT, {
    jobId: cancel.jobId,
    owner: cancel.owner,
    jobType: cancel.jobType,
    by: cancel.by,
    previousState: cancel.previousState,
  });
}
