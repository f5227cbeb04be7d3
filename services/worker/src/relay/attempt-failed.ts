import { appendQueueEvent, type RedisClient } from '@jobstream/runtime';

/**
 * BullMQ writes no event of its own for a failed attempt that will be retried (it only writes
 * `delayed` or `waiting`), so the worker adds this one to the queue's event stream, just before
 * BullMQ moves the job, keeping it in order with BullMQ's own events.
 */
export const ATTEMPT_FAILED_EVENT = 'jobstream:attempt-failed';

export interface AttemptFailed {
  jobId: string;
  failedReason: string;
  attemptsMade: number;
}

/** Appends an attempt-failed event to BullMQ's event stream, trimmed like BullMQ trims it. */
export async function publishAttemptFailed(
  redis: RedisClient,
  eventsKey: string,
  maxLen: number,
  event: AttemptFailed,
): Promise<void> {
  await appendQueueEvent(redis, eventsKey, maxLen, ATTEMPT_FAILED_EVENT, {
    jobId: event.jobId,
    failedReason: event.failedReason,
    attemptsMade: String(event.attemptsMade),
  });
}
