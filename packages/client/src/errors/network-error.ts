import { JobstreamError } from './jobstream-error.js';

/** The request never got an HTTP answer (connection refused, DNS, TLS, reset). `cause` holds the fetch error. */
export class JobstreamNetworkError extends JobstreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK_ERROR', message, options);
    this.name = 'JobstreamNetworkError';
  }
}
