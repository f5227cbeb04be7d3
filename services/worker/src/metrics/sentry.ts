import type { Logger } from '@jobstream/runtime';
import * as Sentry from '@sentry/node';
import type { Job } from 'bullmq';

/**
 * Starts Sentry when a DSN is configured and does nothing otherwise. Default integrations report
 * uncaught exceptions and unhandled rejections; tracing stays off.
 */
export function initSentry(options: { dsn?: string | undefined; environment?: string | undefined; logger: Logger }): boolean {
  if (!options.dsn) return false;
  if (Sentry.isInitialized()) return true;
  Sentry.init({
    dsn: options.dsn,
    ...(options.environment ? { environment: options.environment } : {}),
    serverName: 'jobstream-worker',
    initialScope: { tags: { service: 'worker' } },
  });
  options.logger.info('sentry enabled');
  return true;
}

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

export async function flushSentry(timeoutMs = 2_000): Promise<void> {
  if (Sentry.isInitialized()) await Sentry.flush(timeoutMs);
}
