import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 401: no token, or one the API does not accept (`ADMIN_TOKEN_REQUIRED`, ...). Refreshing the token may help. */
export class UnauthorizedError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'UnauthorizedError';
  }
}
