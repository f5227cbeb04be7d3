import type { ApiErrorBody, ErrorCode, ErrorDetail } from '@jobstream/contracts';

/** An error with an HTTP status and a stable code; the one error type route handlers throw. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ApiErrorBody {
    return { error: this.message, code: this.code, ...(this.details ? { details: this.details } : {}) };
  }

  static validation(details: ErrorDetail[]): ApiError {
    const first = details[0];
    const summary = first ? `${first.path}: ${first.message}` : 'invalid request';
    return new ApiError(400, 'VALIDATION_FAILED', `Request validation failed (${summary})`, details);
  }

  static jobNotFound(jobId: string): ApiError {
    return new ApiError(404, 'JOB_NOT_FOUND', `No job with id "${jobId}" (it may have expired)`);
  }

  static redisUnavailable(): ApiError {
    return new ApiError(503, 'REDIS_UNAVAILABLE', 'The job store is unreachable; try again shortly', undefined, {
      'Retry-After': '5',
    });
  }
}
