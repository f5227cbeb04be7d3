import { JobstreamApiError, type ApiErrorInit } from './api-error.js';

/** 400 or 413/415: the request does not fit the contract (`VALIDATION_FAILED`, `INVALID_JSON`, `INVALID_JOB_ID`, `INVALID_LAST_EVENT_ID`, `INVALID_CURSOR`, `WEBHOOK_TARGET_REFUSED`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`); `details` names each field. */
export class ValidationError extends JobstreamApiError {
  constructor(init: ApiErrorInit) {
    super(init);
    this.name = 'ValidationError';
  }
}
