import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 404: the job does not exist or has expired (`JOB_NOT_FOUND`), the notification is not in the caller's inbox (`NOTIFICATION_NOT_FOUND`), or no such route (`NOT_FOUND`). */
export class NotFoundError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'NotFoundError';
  }
}
