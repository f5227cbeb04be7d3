import { JobstreamError } from './jobstream-error.js';

/** The API answered, but not with what the contract promises (not JSON, or a shape that does not parse). */
export class JobstreamProtocolError extends JobstreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_RESPONSE', message, options);
    this.name = 'JobstreamProtocolError';
  }
}
