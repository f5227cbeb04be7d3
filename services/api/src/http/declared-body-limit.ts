import type { RequestHandler } from 'express';
import { ApiError } from './api-error.js';

/**
 * Refuses a body its `Content-Length` already says is too large, before anything else runs:
 * express.json would otherwise wait for all of it (up to the socket timeout) just to count it.
 * The connection is closed after the answer, since the body it announced is never read.
 */
export function refuseDeclaredOversizedBody(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limitBytes) {
      res.set('Connection', 'close');
      next(new ApiError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than ${limitBytes} bytes (Content-Length: ${declared})`));
      return;
    }
    next();
  };
}
