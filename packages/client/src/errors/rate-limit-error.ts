import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 429 other than the budget (per-user limits): `retryAfterMs` says when to try again. */
export class RateLimitError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'RateLimitError';
  }
}
