import { UnauthorizedError, type JobstreamClient } from '@jobstream/client';
import { retried } from './job-view.js';
import type { JobsModel } from './jobs-model.js';

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Cancel and retry from a job's card. The card shows the request while it is out and the api's
 * refusal when there is one; what the job does next comes from the stream like everything else.
 */
export class JobActions {
  constructor(
    private readonly client: JobstreamClient,
    private readonly jobs: JobsModel,
    private readonly onUnauthorized: (error: UnauthorizedError) => void,
  ) {}

  /**
   * Asks the api to cancel the job. The card keeps saying so until the stream's `cancelled` (or the
   * job's own end, when its handler finished first) arrives.
   */
  async cancel(jobId: string): Promise<void> {
    this.jobs.update(jobId, (job) => ({ ...job, action: 'cancel', actionError: undefined }));
    try {
      await this.client.cancelJob(jobId);
    } catch (err) {
      this.refused(jobId, err);
    }
  }

  /**
   * Runs the failed job again. The new run's events may have come before the answer (and been
   * ignored: the job was finished): the job is read again once it is waiting.
   */
  async retry(jobId: string): Promise<void> {
    this.jobs.update(jobId, (job) => ({ ...job, action: 'retry', actionError: undefined }));
    try {
      await this.client.retryJob(jobId);
    } catch (err) {
      this.refused(jobId, err);
      return;
    }
    this.jobs.update(jobId, (job) => ({ ...retried(job), action: undefined }));
    this.jobs.refreshJob(jobId);
  }

  private refused(jobId: string, err: unknown): void {
    if (err instanceof UnauthorizedError) this.onUnauthorized(err);
    this.jobs.update(jobId, (job) => ({ ...job, action: undefined, actionError: messageOf(err) }));
  }
}
