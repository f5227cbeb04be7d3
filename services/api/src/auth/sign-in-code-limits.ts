import type { RedisClient } from '@jobstream/runtime';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../http/api-error.js';
import { retryAfterSeconds } from '../limits/limit-errors.js';

/** Codes one user may ask for per minute: a script signing in a few browsers, not a loop. */
const ISSUE_PER_MINUTE = 30;
/**
 * Redeems per client address and minute: the route is public, and each try costs a Redis round
 * trip (codes are 32 random bytes: guessing is hopeless whatever the bound). The api sees the
 * socket's address, so every client behind one proxy shares this: it is sized for that.
 */
const REDEEM_PER_MINUTE = 600;

/**
 * The bounds of the sign-in code routes, shared by every replica through Redis: issuing per user,
 * redeeming (public) per client address.
 */
export class SignInCodeLimits {
  private readonly issue: RateLimiterRedis;
  private readonly redeem: RateLimiterRedis;

  constructor(redis: RedisClient, keyPrefix: string) {
    const limiter = (kind: string, points: number): RateLimiterRedis =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}:${kind}`, points, duration: 60, inMemoryBlockOnConsumed: points + 1 });
    this.issue = limiter('issue', ISSUE_PER_MINUTE);
    this.redeem = limiter('redeem', REDEEM_PER_MINUTE);
  }

  consumeIssue(userId: string): Promise<void> {
    return consume(this.issue, userId, 'Too many sign-in codes asked for');
  }

  consumeRedeem(address: string): Promise<void> {
    return consume(this.redeem, address, 'Too many sign-in codes redeemed from this address');
  }
}

async function consume(limiter: RateLimiterRedis, key: string, what: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    // rate-limiter-flexible rejects with a RateLimiterRes when the points are spent, with an Error otherwise.
    if (!(err instanceof RateLimiterRes)) throw err;
    const retryAfterS = retryAfterSeconds(err.msBeforeNext);
    throw new ApiError(429, 'RATE_LIMITED', `${what}; try again in ${retryAfterS} s`, undefined, { 'Retry-After': String(retryAfterS) });
  }
}
