import { cancelledByOf, JOB_CANCELLED_FIELD, type CancelledBy, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';

/** The worker's side of cancel requests kept in Redis (see `job-cancel.ts` in runtime). */
export class CancelRequests {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<JobstreamKeys, 'cancelRequest' | 'job'>,
  ) {}

  /** Who asked to stop the job, if anyone did: a job cancelled just as a worker took it is stopped here. */
  async requestedBy(jobId: string): Promise<CancelledBy | undefined> {
    return cancelledByOf(await this.redis.get(this.keys.cancelRequest(jobId)));
  }

  /**
   * Marks the job as cancelled before BullMQ fails it, so the relay turns its `failed` into
   * `cancelled`, and drops the request, which has been served.
   */
  async markCancelled(jobId: string, by: CancelledBy): Promise<void> {
    await this.redis.multi().hset(this.keys.job(jobId), JOB_CANCELLED_FIELD, by).del(this.keys.cancelRequest(jobId)).exec();
  }
}
