import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 401: no token, or one the API does not accept (`AUTH_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED`). Refreshing the token may help. */
export class UnauthorizedError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'UnauthorizedError';
  }
}
