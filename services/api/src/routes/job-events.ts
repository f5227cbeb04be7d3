import { Router, type Request, type Response } from 'express';
import { principalOf } from '../auth/principal.js';
import { toApiError } from '../http/error-handler.js';
import { withRequestId } from '../http/request-context.js';
import { parseJobId, parseLastEventId } from '../http/request-params.js';
import type { StreamSlots } from '../limits/stream-slots.js';
import { openJobStream, type JobStreamDeps } from '../sse/job-stream.js';
import { SSE_HEADERS } from '../sse/sse-format.js';

/**
 * A browser's EventSource treats any non-200 answer as final and never reconnects. While Redis is
 * away, a stream request from one is therefore answered with an empty stream and a retry hint,
 * so it comes back by itself; other clients get the plain 503.
 */
async function streamOrRetryLater(deps: JobStreamDeps, slots: StreamSlots | undefined, req: Request, res: Response, jobId: string): Promise<void> {
  try {
    // The request is checked whole before it takes a slot: a bad cursor is a 400 even at the cap.
    const afterId = parseLastEventId(req);
    // Inside the try: while Redis is away the slot cannot be taken either, and gets the same retry hint.
    await slots?.acquire(res, principalOf(res).userId);
    await openJobStream(deps, res, principalOf(res), jobId, afterId);
  } catch (err) {
    const apiError = toApiError(err);
    if (apiError?.code !== 'REDIS_UNAVAILABLE' || res.headersSent || !req.accepts('text/event-stream')) throw err;
    res.writeHead(200, withRequestId(res, SSE_HEADERS));
    res.end(`retry: ${deps.retryMs * 2}\n: ${apiError.code}: ${apiError.message}\n\n`);
  }
}

/** GET /api/jobs/:id/events and its alias GET /api/job-events?jobId=...; each stream takes one of `slots` while open. */
export function jobEventRoutes(deps: JobStreamDeps, slots?: StreamSlots): Router {
  const router = Router();
  router.get('/jobs/:id/events', (req, res) => streamOrRetryLater(deps, slots, req, res, parseJobId(req.params.id)));
  router.get('/job-events', (req, res) => streamOrRetryLater(deps, slots, req, res, parseJobId(req.query.jobId)));
  return router;
}
