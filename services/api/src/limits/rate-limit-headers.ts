/**
 * The headers that tell a client where it stands with a rate limit, in the widely implemented
 * form of the IETF draft (draft-ietf-httpapi-ratelimit-headers-06, as express-rate-limit's
 * `draft-6`): plain integers a client reads without a structured-field parser. The newer drafts'
 * single `RateLimit` field is still moving; these names are what SDKs and proxies already read.
 */
export const RATE_LIMIT_HEADER_NAMES = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'] as const;

export interface RateLimitState {
  /** Points per window. */
  limit: number;
  /** The window, in seconds. */
  windowS: number;
  /** Points left in the current window. */
  remaining: number;
  /** Milliseconds until the current window ends. */
  msBeforeReset: number;
}

/** `RateLimit-Limit: 120`, `RateLimit-Remaining: 7`, `RateLimit-Reset: 42` (seconds, rounded up), `RateLimit-Policy: 120;w=60`. */
export function rateLimitHeaders(state: RateLimitState): Record<(typeof RATE_LIMIT_HEADER_NAMES)[number], string> {
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(state.msBeforeReset / 1_000))),
    'RateLimit-Policy': `${state.limit};w=${state.windowS}`,
  };
}
