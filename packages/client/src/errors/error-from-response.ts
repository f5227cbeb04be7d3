import { isApiErrorBody, isErrorDetail } from '../http/shape-checks.js';
import { parseRetryAfter } from '../sse/backoff.js';
import { JobstreamApiError, type ApiErrorInit } from './api-error.js';
import { BudgetLimitError } from './budget-limit-error.js';
import { ConflictError } from './conflict-error.js';
import { ForbiddenError } from './forbidden-error.js';
import { NotFoundError } from './not-found-error.js';
import { RateLimitError } from './rate-limit-error.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';
import { ServiceUnavailableError } from './service-unavailable-error.js';
import { UnauthorizedError } from './unauthorized-error.js';
import { ValidationError } from './validation-error.js';

/** What is read from an error answer; `Headers` is all that is needed of the response, so any fetch works. */
export interface ErrorResponse {
  status: number;
  statusText?: string;
  headers: { get(name: string): string | null };
}

/**
 * The one mapping from an error answer back to an error class: by status, and for 429 and 503 by
 * code. A body that is not the API's error shape (a proxy's HTML page) still becomes a
 * JobstreamApiError, with code `HTTP_<status>`, so callers always get a status and a code.
 */
export function errorFromResponse(res: ErrorResponse, body: unknown): JobstreamApiError {
  const loose = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  const wellFormed = isApiErrorBody(body);
  // A newer API may answer with a code this SDK does not know: keep it rather than lose it.
  const code = typeof loose?.code === 'string' ? loose.code : `HTTP_${res.status}`;
  const message = typeof loose?.error === 'string' ? loose.error : `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  const details = wellFormed ? body.details : Array.isArray(loose?.details) ? loose.details.filter(isErrorDetail) : undefined;
  const init: ApiErrorInit = {
    status: res.status,
    code,
    message,
    details,
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    body,
    requestId: res.headers.get('x-request-id') ?? undefined,
  };
  switch (res.status) {
    case 400:
    case 413:
    case 415:
      return new ValidationError(init);
    case 401:
      return new UnauthorizedError(init);
    case 403:
      return new ForbiddenError(init);
    case 404:
      return new NotFoundError(init);
    case 409:
      return new ConflictError(init);
    case 429:
      return code === 'BUDGET_LIMIT_EXCEEDED' ? new BudgetLimitError(init) : new RateLimitError(init);
    case 503:
      return code === 'REDIS_UNAVAILABLE' ? new RedisUnavailableError(init) : new ServiceUnavailableError(init);
    default:
      return new JobstreamApiError(init);
  }
}
