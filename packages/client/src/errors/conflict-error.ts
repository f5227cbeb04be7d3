import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 409: the idempotency key was used before for a different submission (`IDEMPOTENCY_KEY_REUSED`). */
export class ConflictError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'ConflictError';
  }
}
