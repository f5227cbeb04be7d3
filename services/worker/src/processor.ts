import { isJobTypeName, jobTypes, zodIssuesToDetails } from '@jobstream/contracts';
import type { Logger, RedisClient } from '@jobstream/runtime';
import { UnrecoverableError, type Job } from 'bullmq';
import type { JobCatalog } from './jobs/index.js';
import { publishAttemptFailed } from './relay/attempt-failed.js';

export interface ProcessorDeps {
  catalog: JobCatalog;
  redis: RedisClient;
  eventsKey: string;
  eventsMaxLen: number;
  logger: Logger;
  /** Aborted when the worker gives up waiting for active jobs at shutdown. */
  signal: AbortSignal;
}

/** Whether BullMQ will run the job again after this error (mirrors its own retry decision). */
function willRetry(job: Job, err: unknown): boolean {
  if (err instanceof UnrecoverableError) return false;
  return job.attemptsMade + 1 < (job.opts.attempts ?? 1);
}

/**
 * The BullMQ processor for every job type: validates the payload at the worker's edge, runs the
 * type's handler and, for an attempt that will be retried, records the failure as an event.
 */
export function createProcessor(deps: ProcessorDeps) {
  return async (job: Job): Promise<unknown> => {
    const jobId = job.id ?? 'unknown';
    const attempt = job.attemptsMade + 1;
    const log = deps.logger.child({ jobId, type: job.name, attempt });
    try {
      if (!isJobTypeName(job.name)) throw new UnrecoverableError(`unknown job type "${job.name}"`);
      const parsed = jobTypes[job.name].payload.safeParse(job.data.payload);
      if (!parsed.success) {
        const details = zodIssuesToDetails(parsed.error, ['payload']).map((d) => `${d.path}: ${d.message}`);
        throw new UnrecoverableError(`invalid payload: ${details.join('; ')}`);
      }
      log.debug('attempt started');
      const result = await deps.catalog[job.name].process(parsed.data, {
        jobId,
        attempt,
        logger: log,
        signal: deps.signal,
        reportProgress: (progress) => job.updateProgress(progress),
      });
      log.info('attempt completed');
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const retry = willRetry(job, err);
      log.warn({ err: message, willRetry: retry }, 'attempt failed');
      if (retry) {
        await publishAttemptFailed(deps.redis, deps.eventsKey, deps.eventsMaxLen, {
          jobId,
          failedReason: message,
          attemptsMade: attempt,
        }).catch((publishErr: unknown) => log.error({ err: publishErr }, 'could not record the failed attempt'));
      }
      throw err;
    }
  };
}
