import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';
import type { Request, Response } from 'express';
import { requestLog } from '../http/request-context.js';
import { securityHeaders, type SecurityHeaders } from '../http/security-headers.js';
import { ApiError } from '../http/api-error.js';
import { EnqueueRateLimit, enqueueAdmission } from './enqueue-rate-limit.js';
import { JobQuotas, type QuotaClaim } from './job-quotas.js';
import type { LimitsConfig } from './limits-config.js';
import { StreamSlots } from './stream-slots.js';

export interface ApiLimitsDeps {
  /** The api's command connection (fails fast: a Redis outage becomes 503 REDIS_UNAVAILABLE). */
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'enqueueRateLimit' | 'cancelRateLimit' | 'streamLeases' | 'unfinishedJobs' | 'storedBytes' | 'job'>;
  /** JOB_RETENTION_SECONDS: how long the bytes of a user's jobs count against their quota. */
  retentionSeconds: number;
  logger: Logger;
}

/** The limits and security headers of one api process, built from its config. */
export interface ApiLimits {
  /** Step of the job routes' `admit` hook: one point of the caller's enqueue allowance. */
  admitEnqueue: (req: Request, res: Response) => Promise<void>;
  /**
   * One point of the caller's cancel allowance (as many per window as submissions, counted apart,
   * so a user who used up their submissions can still cancel): a running job's cancel reaches every
   * worker, and nobody may make them all work in a loop.
   */
  admitCancel: (req: Request, res: Response) => Promise<void>;
  /**
   * Step of the job routes for a new job (not an idempotent replay), once its id is known and before
   * it is added: counts it against its owner's quotas, atomically with the check, or refuses it with
   * 429 JOB_QUOTA_EXCEEDED / STORAGE_QUOTA_EXCEEDED and gives back the rate-limit point it took.
   * Returns how to take the count back if the job is not added after all.
   */
  reserveJob: (res: Response, claim: QuotaClaim) => Promise<() => Promise<void>>;
  /** Admission of every SSE stream (job streams, the notification stream). */
  streamSlots: StreamSlots;
  security: SecurityHeaders;
  /** Shutdown: refuses new streams and gives back this process's stream leases. */
  stop(): Promise<void>;
}

export function createApiLimits(config: LimitsConfig, deps: ApiLimitsDeps): ApiLimits {
  const enqueue = new EnqueueRateLimit({
    redis: deps.redis,
    keyPrefix: deps.keys.enqueueRateLimit,
    points: config.enqueue.points,
    windowS: config.enqueue.windowS,
  });
  const cancels = new EnqueueRateLimit({
    redis: deps.redis,
    keyPrefix: deps.keys.cancelRateLimit,
    points: config.enqueue.points,
    windowS: config.enqueue.windowS,
  });
  const streamSlots = new StreamSlots({
    redis: deps.redis,
    keyOf: deps.keys.streamLeases,
    maxPerUser: config.streams.maxPerUser,
    maxPerProcess: config.streams.maxPerProcess,
    leaseTtlMs: config.streams.leaseTtlMs,
    logger: deps.logger,
  });
  const quotas = new JobQuotas({ redis: deps.redis, keys: deps.keys, quotas: config.quotas, retentionSeconds: deps.retentionSeconds, logger: deps.logger });
  const nothingToUndo = async (): Promise<void> => undefined;
  return {
    admitEnqueue: enqueueAdmission(enqueue),
    admitCancel: enqueueAdmission(cancels),
    reserveJob: async (res, claim) => {
      if (!quotas.enabled) return nothingToUndo;
      try {
        return await quotas.admit(claim);
      } catch (err) {
        if (err instanceof ApiError) {
          await enqueue.refund(res, claim.owner).catch((refundErr: unknown) => {
            requestLog(res, deps.logger).warn({ err: refundErr }, 'could not give back the rate-limit point of a submission over its quota');
          });
        }
        throw err;
      }
    },
    streamSlots,
    security: securityHeaders({ corsOrigins: config.corsOrigins }),
    stop: () => streamSlots.stop(),
  };
}
