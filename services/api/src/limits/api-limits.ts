import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';
import type { Request, Response } from 'express';
import { securityHeaders, type SecurityHeaders } from '../http/security-headers.js';
import { EnqueueRateLimit, enqueueAdmission } from './enqueue-rate-limit.js';
import type { LimitsConfig } from './limits-config.js';
import { StreamSlots } from './stream-slots.js';

export interface ApiLimitsDeps {
  /** The api's command connection (fails fast: a Redis outage becomes 503 REDIS_UNAVAILABLE). */
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'enqueueRateLimit' | 'streamLeases'>;
  logger: Logger;
}

/** The limits and security headers of one api process, built from its config. */
export interface ApiLimits {
  /** Step of the job routes' `admit` hook: one point of the caller's enqueue allowance. */
  admitEnqueue: (req: Request, res: Response) => Promise<void>;
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
  const streamSlots = new StreamSlots({
    redis: deps.redis,
    keyOf: deps.keys.streamLeases,
    maxPerUser: config.streams.maxPerUser,
    maxPerProcess: config.streams.maxPerProcess,
    leaseTtlMs: config.streams.leaseTtlMs,
    logger: deps.logger,
  });
  return {
    admitEnqueue: enqueueAdmission(enqueue),
    streamSlots,
    security: securityHeaders({ corsOrigins: config.corsOrigins }),
    stop: () => streamSlots.stop(),
  };
}
