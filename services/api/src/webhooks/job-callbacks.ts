import { WebhookTargetError, type JobstreamKeys, type RedisClient, type WebhookEndpointStore, type WebhookTargetPolicy } from '@jobstream/runtime';
import { ApiError } from '../http/api-error.js';
import { targetRefused } from './webhook-errors.js';

/**
 * A job's `callbackUrl`: its outcome (`job.completed` or `job.failed`) is delivered there, signed
 * with the secret of the owner's job-callbacks endpoint, logged and retried like any delivery.
 */
export class JobCallbacks {
  constructor(
    private readonly deps: {
      redis: RedisClient;
      keys: Pick<JobstreamKeys, 'jobCallback'>;
      endpoints: WebhookEndpointStore;
      policy: WebhookTargetPolicy;
      /** How long the URL is kept: the job's retention. */
      retentionSeconds: number;
    },
  ) {}

  /** The URL, checked: the owner must have an enabled callbacks endpoint, and the target must be one webhooks may reach. */
  async check(owner: string, url: string): Promise<string> {
    const callbacks = await this.deps.endpoints.callbacks(owner);
    if (!callbacks || callbacks.disabledReason !== null) {
      const why = callbacks ? 'your job-callbacks endpoint is disabled (delete it and create it again)' : 'create your job-callbacks endpoint first (POST /api/webhooks/job-callbacks)';
      throw ApiError.validation([{ path: 'callbackUrl', message: why }]);
    }
    try {
      return (await this.deps.policy.check(url)).href;
    } catch (err) {
      if (err instanceof WebhookTargetError) throw targetRefused(err.message, 'callbackUrl');
      throw err;
    }
  }

  /** Keeps the job's URL for the dispatcher, as long as the job is kept. */
  async remember(jobId: string, url: string): Promise<void> {
    await this.deps.redis.set(this.deps.keys.jobCallback(jobId), url, 'EX', this.deps.retentionSeconds);
  }
}
