import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 403: the token is valid but may not do this (`FORBIDDEN`). */
export class ForbiddenError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'ForbiddenError';
  }
}
