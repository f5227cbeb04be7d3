import type { ErrorCode, ErrorDetail } from '../contract-types.js';
import { JobstreamError } from './jobstream-error.js';

/** A code the API answered with: one of the contract's codes, or a newer one this SDK does not know yet. */
export type ApiErrorCode = ErrorCode | (string & {});

export interface ApiErrorInit {
  status: number;
  code: ApiErrorCode;
  message: string;
  details?: ErrorDetail[] | undefined;
  /** From the `Retry-After` header, in ms. */
  retryAfterMs?: number | undefined;
  /** The error body as received (parsed JSON, or the text when it was not JSON). */
  body?: unknown;
  /** From the `X-Request-Id` header. */
  requestId?: string | undefined;
}

/** The API answered with an error status. `code` is the stable code of the API's error body. */
export class JobstreamApiError extends JobstreamError {
  override readonly code: ApiErrorCode;
  readonly status: number;
  /** Per-field problems of a `VALIDATION_FAILED` (and other 400s that name a field). */
  readonly details: ErrorDetail[] | undefined;
  /** How long the server asked the client to wait (`Retry-After`), in ms; undefined when it did not say. */
  readonly retryAfterMs: number | undefined;
  readonly body: unknown;
  /**
   * The api's id for the request (`X-Request-Id`): the key to its log lines, worth quoting in a
   * report. Undefined when the answer did not come from the api (a proxy's page) or a browser of
   * another origin was not allowed to read it.
   */
  readonly requestId: string | undefined;

  constructor(init: ApiErrorInit) {
    super(init.code, init.message);
    this.name = 'JobstreamApiError';
    this.code = init.code;
    this.status = init.status;
    this.details = init.details;
    this.retryAfterMs = init.retryAfterMs;
    this.body = init.body;
    this.requestId = init.requestId;
  }
}
