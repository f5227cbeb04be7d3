import accepts from 'accepts';
import type { IncomingMessage } from 'node:http';
import { toApiError } from '../http/error-handler.js';
import { withRequestId, type ApiResponse } from '../http/request-context.js';
import { SSE_HEADERS } from './sse-format.js';

/**
 * Runs `open` (which checks the request, takes a stream slot and opens the stream). A browser's
 * EventSource treats any non-200 answer as final and never reconnects, so while Redis is away a
 * stream request from one is answered with an empty stream and a retry hint (twice the usual
 * wait), and comes back by itself; other clients, and every other error, get the plain answer.
 */
export async function streamOrRetryLater(req: IncomingMessage, res: ApiResponse, retryMs: number, open: () => Promise<void>): Promise<void> {
  try {
    await open();
  } catch (err) {
    const apiError = toApiError(err);
    if (apiError?.code !== 'REDIS_UNAVAILABLE' || res.headersSent || !accepts(req).type('text/event-stream')) throw err;
    res.writeHead(200, withRequestId(res, SSE_HEADERS));
    res.end(`retry: ${retryMs * 2}\n: ${apiError.code}: ${apiError.message}\n\n`);
  }
}
