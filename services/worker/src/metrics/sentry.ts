import { reportError, sentryEnabled } from '@jobstream/runtime';
import type { Job } from 'bullmq';

/**
 * Reports a failed attempt with the job's id, type and attempt number. An attempt that will be
 * retried is a warning; the last one (or an unrecoverable error) is an error.
 */
export function captureJobFailure(job: Job | undefined, err: Error): void {
  if (!sentryEnabled()) return;
  const attempt = job?.attemptsMade ?? 0;
  const final = !job || err.name === 'UnrecoverableError' || attempt >= (job.opts.attempts ?? 1);
  reportError(err, {
    level: final ? 'error' : 'warning',
    tags: { jobId: job?.id ?? 'unknown', jobType: job?.name ?? 'unknown', attempt: String(attempt), final: String(final) },
    contexts: { job: { jobId: job?.id, type: job?.name, attempt, maxAttempts: job?.opts.attempts, queue: job?.queueName } },
  });
}
