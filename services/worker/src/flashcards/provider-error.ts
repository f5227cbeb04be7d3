/**
 * Stable codes for provider failures; operators and tests switch on them. Each code decides
 * whether another attempt can help, so `retryable` can never disagree with the code.
 */
const retryableByCode = {
  /** The provider refused the request (bad key, unknown model, invalid request): retrying repeats the refusal. */
  PROVIDER_REJECTED: false,
  /** The content gives nothing to make a card from: the same content gives nothing next time either. */
  CONTENT_UNUSABLE: false,
  /** Rate limited, 5xx or unreachable: likely to pass later. */
  PROVIDER_UNAVAILABLE: true,
  /** No answer within the configured timeout. */
  PROVIDER_TIMEOUT: true,
  /** The provider answered with something that is not the expected shape; models are not deterministic. */
  PROVIDER_BAD_RESPONSE: true,
  /** The request was cancelled because the worker is shutting down; another worker should pick the job up. */
  PROVIDER_ABORTED: true,
} as const;

export type ProviderErrorCode = keyof typeof retryableByCode;

/** A flashcards provider failure with a stable code and whether another attempt may succeed. */
export class ProviderError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
    this.retryable = retryableByCode[code];
  }
}
