import type { JobSnapshot } from '../contract-types.js';
import { ForbiddenError } from '../errors/forbidden-error.js';
import { NotFoundError } from '../errors/not-found-error.js';
import { isJobSnapshot } from '../http/shape-checks.js';
import type { Transport } from '../http/transport.js';

/**
 * Results the api leaves out of its streams. A `completed` event (and a stream's snapshot of the
 * job) whose result has more JSON bytes than the api's EVENT_RESULT_INLINE_MAX_BYTES carries
 * `resultOmitted: true` and `resultBytes` instead; `GET /api/jobs/:id` always has the result. The
 * watches fetch it there, so what they yield looks as if the result had travelled in the event.
 */

/** Whether the api left the job's result out of this event data or snapshot. */
export function resultLeftOut(value: object): boolean {
  return (value as { resultOmitted?: unknown }).resultOmitted === true;
}

/** Event data as if `result` had travelled in it (the marker taken out). */
export function withInlineResult<D extends { resultOmitted?: true; resultBytes?: number }>(data: D, result: unknown): Omit<D, 'resultOmitted' | 'resultBytes'> & { result: unknown } {
  const { resultOmitted: _omitted, resultBytes: _bytes, ...rest } = data;
  return { ...rest, result };
}

/**
 * The completed job, or undefined when it cannot be had (gone past its retention, or not the
 * caller's): the event is then delivered as it came. Any other failure rejects.
 */
export async function fetchCompletedJob(transport: Transport, jobId: string): Promise<JobSnapshot | undefined> {
  try {
    const job = await transport.json('GET', `/api/jobs/${encodeURIComponent(jobId)}`, { check: isJobSnapshot, expected: 'a job snapshot' });
    return job.state === 'completed' ? job : undefined;
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof ForbiddenError) return undefined;
    throw err;
  }
}
