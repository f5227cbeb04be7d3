import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 503: the API cannot serve now (`REDIS_UNAVAILABLE`, `SHUTTING_DOWN`, `ALERTS_UNAVAILABLE`, `AUTH_UNAVAILABLE`); `retryAfterMs` when it said. */
export class ServiceUnavailableError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'ServiceUnavailableError';
  }
}
