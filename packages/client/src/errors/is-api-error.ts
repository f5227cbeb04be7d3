import type { ErrorCode } from '../contract-types.js';
import { JobstreamApiError } from './api-error.js';

/**
 * True when `err` is an API error, and with `code` only for that code; narrows `err.code`, so a
 * `switch` on it is checked against the contract's codes:
 * `if (isApiError(err, 'BUDGET_LIMIT_EXCEEDED')) wait(err.retryAfterMs)`.
 */
export function isApiError<C extends ErrorCode>(err: unknown, code?: C): err is JobstreamApiError & { code: C } {
  return err instanceof JobstreamApiError && (code === undefined || err.code === code);
}
