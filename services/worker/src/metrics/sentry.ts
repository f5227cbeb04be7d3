import * as Sentry from '@sentry/node';
import type { Job } from 'bullmq';

/**
 * Reports a failed attempt with the job's id, type and attempt number. An attempt that will be
 * retried is a warning; the last one (or an unrecoverable error) is an error.
 */
export function captureJobFailure(job: Job | undefined, err: Error): void {
  if (!Sentry.isInitialized()) return;
  const attempt = job?.attemptsMade ?? 0;
  const final = !job || err.name === 'UnrecoverableError' || attempt >= (job.opts.attempts ?? 1);
  Sentry.withScope((scope) => {
    scope.setLevel(final ? 'error' : 'warning');
    scope.setTags({ jobId: job?.id ?? 'unknown', jobType: job?.name ?? 'unknown', attempt: String(attempt), final: String(final) });
    scope.setContext('job', { jobId: job?.id, type: job?.name, attempt, maxAttempts: job?.opts.attempts, queue: job?.queueName });
    Sentry.captureException(err);
  });
}
