import { cancelledByOf, inSpan, recordSpan, type CancelledBy, type Logger, type RedisClient, type TraceSpan } from '@jobstream/runtime';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { CancelRequests } from './cancel/cancel-requests.js';
import type { JobCatalog } from './jobs/index.js';
import type { JobHandler } from './jobs/job-handler.js';
import { checkResult, parsePayload } from './jobs/job-io.js';
import type { AttemptEnd, JobQuotas } from './limits/job-quotas.js';
import { publishAttemptFailed } from './relay/attempt-failed.js';
import { enqueueTraceparent, jobSpanAttributes } from './job-trace.js';

export interface ProcessorDeps {
  catalog: JobCatalog;
  redis: RedisClient;
  eventsKey: string;
  eventsMaxLen: number;
  logger: Logger;
  /** Aborted when the worker gives up waiting for active jobs at shutdown. */
  signal: AbortSignal;
  /** Cancel requests kept in Redis: read when an attempt starts, marked when a cancelled job stops. */
  cancels: CancelRequests;
  /** The per-user quotas; undefined when every one is off. */
  quotas?: JobQuotas | undefined;
  /** Told about a job that went back to delayed without running (held back by the per-user cap). */
  onHeldBack?: (jobId: string) => void;
}

/** Whether BullMQ will run the job again after this error (mirrors its own retry decision). */
function willRetry(job: Job, err: unknown): boolean {
  if (err instanceof UnrecoverableError) return false;
  return job.attemptsMade + 1 < (job.opts.attempts ?? 1);
}

/** The user who submitted the job (the api writes it into the job's data), if it has one. */
function ownerOf(job: Job): string | undefined {
  const owner: unknown = (job.data as { owner?: unknown } | undefined)?.owner;
  return typeof owner === 'string' && owner !== '' ? owner : undefined;
}

/** The processor of a job type; a name the catalog does not know fails the job for good. */
function handlerFor(catalog: JobCatalog, type: string): JobHandler {
  if (!Object.hasOwn(catalog, type)) throw new UnrecoverableError(`unknown job type "${type}"`);
  return catalog[type as keyof JobCatalog];
}

/** A job stopped because it was cancelled; never retried. */
class JobCancelledError extends UnrecoverableError {
  constructor(readonly by: CancelledBy) {
    super(`cancelled by ${by === 'admin' ? 'an admin' : 'its owner'}`);
    this.name = 'JobCancelledError';
  }
}

/**
 * Who cancelled the attempt, if it was cancelled: a shutdown also aborts the handler's signal, and
 * is not a cancel (the job comes back as stalled and runs again).
 */
function cancelledBy(err: unknown, cancel: AbortSignal | undefined, shutdown: AbortSignal): CancelledBy | undefined {
  if (err instanceof JobCancelledError) return err.by;
  if (shutdown.aborted || !cancel?.aborted) return undefined;
  return cancelledByOf(cancel.reason) ?? 'owner';
}

/**
 * The BullMQ processor for every job type: takes the owner's active slot (a job whose owner runs as
 * many jobs as allowed goes back to delayed, without using an attempt), validates the payload at the
 * worker's edge, runs the type's handler, checks its result against the type's result schema and,
 * for an attempt that will be retried, records the failure as an event.
 */
export function createProcessor(deps: ProcessorDeps) {
  const runAttempt = async (job: Job, token: string | undefined, cancel: AbortSignal | undefined, span: TraceSpan | undefined): Promise<unknown> => {
    const jobId = job.id ?? 'unknown';
    const attempt = job.attemptsMade + 1;
    const log = deps.logger.child({ jobId, type: job.name, attempt, ...(span ? { traceId: span.traceId, spanId: span.spanId } : {}) });
    // The cancel request is read with the admission, in the same round trip to Redis.
    const [admission, requestedBy] = await Promise.all([deps.quotas?.admit(ownerOf(job), jobId), deps.cancels.requestedBy(jobId)]);
    if (admission && !admission.run) {
      // moveToDelayed skips the attempt count, and DelayedError tells BullMQ the job was moved:
      // neither `failed` nor `completed`. The stream shows `delayed`, then `waiting` and `active` again.
      log.debug({ delayMs: admission.delayMs }, 'held back: the owner runs as many jobs as allowed');
      span?.setAttributes({ 'jobstream.job.held_back': true });
      await job.moveToDelayed(Date.now() + admission.delayMs, token);
      deps.onHeldBack?.(jobId);
      throw new DelayedError();
    }
    const end: AttemptEnd = { outcome: 'retry', progressReports: 0 };
    try {
      const handler = handlerFor(deps.catalog, job.name);
      const payload = parsePayload(handler.definition, job.data.payload);
      if (requestedBy) throw new JobCancelledError(requestedBy);
      log.debug('attempt started');
      const result = await handler.process(payload, {
        jobId,
        attempt,
        logger: log,
        signal: cancel ? AbortSignal.any([deps.signal, cancel]) : deps.signal,
        reportProgress: (progress) => {
          end.progressReports += 1;
          return job.updateProgress(progress);
        },
      });
      checkResult(handler.definition, result);
      log.info('attempt completed');
      end.outcome = 'completed';
      end.result = result;
      return result;
    } catch (err) {
      const by = cancelledBy(err, cancel, deps.signal);
      if (by) {
        end.outcome = 'failed';
        log.info({ by }, 'attempt stopped: the job was cancelled');
        // Marked before BullMQ fails the job: its `failed` event must find the mark.
        await deps.cancels.markCancelled(jobId, by);
        throw err instanceof JobCancelledError ? err : new JobCancelledError(by);
      }
      const message = err instanceof Error ? err.message : String(err);
      const retry = willRetry(job, err);
      // Cut off by shutdown: the job stays active and comes back as stalled, so it is not finished.
      if (!retry && !deps.signal.aborted) end.outcome = 'failed';
      log.warn({ err, willRetry: retry }, 'attempt failed');
      if (retry) {
        await publishAttemptFailed(deps.redis, deps.eventsKey, deps.eventsMaxLen, {
          jobId,
          failedReason: message,
          attemptsMade: attempt,
        }).catch((publishErr: unknown) => log.error({ err: publishErr }, 'could not record the failed attempt'));
      }
      throw err;
    } finally {
      await admission?.attempt.end(end);
    }
  };

  // Three parameters: BullMQ passes the job's cancel signal (Worker.cancelJob) only to a processor that declares it.
  return (job: Job, token?: string, cancel?: AbortSignal): Promise<unknown> => {
    const parent = enqueueTraceparent(job);
    const attributes = jobSpanAttributes(job);
    // The first attempt's wait: from the enqueue until this worker took the job.
    if (job.attemptsMade === 0 && job.processedOn !== undefined) {
      recordSpan('jobstream.job.wait', { parent, attributes, startTimeMs: job.timestamp, endTimeMs: job.processedOn });
    }
    return inSpan('jobstream.job.process', { kind: 'consumer', parent, attributes, isFailure: (err) => !(err instanceof DelayedError) }, (span) =>
      runAttempt(job, token, cancel, span),
    );
  };
}
