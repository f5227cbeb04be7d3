/** The base of every error the SDK throws: a message and a stable `code` to switch on. */
export class JobstreamError extends Error {
  constructor(
    /** An API error code (`JOB_NOT_FOUND`, ...) or one of the SDK's own (`NETWORK_ERROR`, `INVALID_RESPONSE`). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JobstreamError';
  }
}
