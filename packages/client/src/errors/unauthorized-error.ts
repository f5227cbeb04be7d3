import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/**
 * 401: no token, or one the API does not accept (`AUTH_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED`).
 * A `TOKEN_EXPIRED` arrives only after the SDK asked `getToken({ forceRefresh: true })` once and was refused again.
 */
export class UnauthorizedError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'UnauthorizedError';
  }
}
