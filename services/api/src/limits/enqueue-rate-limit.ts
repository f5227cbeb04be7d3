import type { RedisClient } from '@jobstream/runtime';
import type { Request, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from '../auth/principal.js';
import { rateLimited, retryAfterSeconds } from './limit-errors.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

export interface EnqueueRateLimitOptions {
  /**
   * The api's command connection. It has no offline queue, so while Redis is away a consume fails at
   * once with an error the error handler answers as 503 REDIS_UNAVAILABLE (never a 500, never a hang).
   */
  redis: RedisClient;
  /**
   * Prefix of the counters (`keys.enqueueRateLimit`); the user id is appended. It starts with the
   * queue's prefix, whose hash tag keeps the counters in the queue's cluster slot.
   */
  keyPrefix: string;
  /** Submissions per window and user; 0 turns the limit off. */
  points: number;
  /** The window, in seconds. */
  windowS: number;
}

/**
 * Jobs per user and window, shared by every replica through Redis (rate-limiter-flexible's
 * RateLimiterRedis: one INCR-with-TTL script per submission, a fixed window per user).
 */
export class EnqueueRateLimit {
  private readonly limiter: RateLimiterRedis | undefined;

  constructor(private readonly options: EnqueueRateLimitOptions) {
    this.limiter =
      options.points > 0
        ? new RateLimiterRedis({
            storeClient: options.redis,
            keyPrefix: options.keyPrefix,
            points: options.points,
            duration: options.windowS,
            // Once Redis said "over", this replica refuses the user from memory for the rest of the
            // window: a client hammering in a loop costs no Redis round trip per request.
            inMemoryBlockOnConsumed: options.points + 1,
          })
        : undefined;
  }

  /**
   * Takes one submission from `userId`'s allowance and sets the RateLimit headers on `res`; throws
   * 429 RATE_LIMITED (with Retry-After) when none is left, or the Redis error when Redis is away.
   */
  async consume(res: Response, userId: string): Promise<void> {
    if (!this.limiter) return;
    let outcome: RateLimiterRes;
    try {
      outcome = await this.limiter.consume(userId);
    } catch (err) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the points are spent, with an Error otherwise.
      if (!(err instanceof RateLimiterRes)) throw err;
      throw rateLimited(retryAfterSeconds(err.msBeforeNext), this.headers(err));
    }
    res.set(this.headers(outcome));
  }

  /**
   * Gives back the point a submission took that was refused after all (by a quota), and updates the
   * RateLimit headers on `res`: a refused submission costs nothing, as one refused before the limit.
   */
  async refund(res: Response, userId: string): Promise<void> {
    if (!this.limiter) return;
    res.set(this.headers(await this.limiter.reward(userId, 1)));
  }

  private headers(outcome: RateLimiterRes): Record<string, string> {
    return rateLimitHeaders({
      limit: this.options.points,
      windowS: this.options.windowS,
      remaining: outcome.remainingPoints,
      msBeforeReset: outcome.msBeforeNext,
    });
  }
}

/**
 * The job routes' `admit` step: one point per submission of the authenticated caller. It runs after
 * the body was validated (a malformed request is refused without touching Redis and costs no point),
 * so a buggy client keeps getting the 400 that names its mistake instead of an opaque 429.
 */
export function enqueueAdmission(limit: EnqueueRateLimit): (req: Request, res: Response) => Promise<void> {
  return (_req, res) => limit.consume(res, principalOf(res).userId);
}
