import { Router, type Request, type Response } from 'express';
import { principalOf } from '../auth/principal.js';
import { toApiError } from '../http/error-handler.js';
import { parseJobId, parseLastEventId } from '../http/request-params.js';
import { openJobStream, type JobStreamDeps } from '../sse/job-stream.js';
import { SSE_HEADERS } from '../sse/sse-format.js';

/**
 * A browser's EventSource treats any non-200 answer as final and never reconnects. While Redis is
 * away, a stream request from one is therefore answered with an empty stream and a retry hint,
 * so it comes back by itself; other clients get the plain 503.
 */
async function streamOrRetryLater(deps: JobStreamDeps, req: Request, res: Response, jobId: string): Promise<void> {
  try {
    await openJobStream(deps, res, principalOf(res), jobId, parseLastEventId(req));
  } catch (err) {
    const apiError = toApiError(err);
    if (apiError?.code !== 'REDIS_UNAVAILABLE' || res.headersSent || !req.accepts('text/event-stream')) throw err;
    res.writeHead(200, SSE_HEADERS);
    res.end(`retry: ${deps.retryMs * 2}\n: ${apiError.code}: ${apiError.message}\n\n`);
  }
}

/** GET /api/jobs/:id/events and its alias GET /api/job-events?jobId=... */
export function jobEventRoutes(deps: JobStreamDeps): Router {
  const router = Router();
  router.get('/jobs/:id/events', (req, res) => streamOrRetryLater(deps, req, res, parseJobId(req.params.id)));
  router.get('/job-events', (req, res) => streamOrRetryLater(deps, req, res, parseJobId(req.query.jobId)));
  return router;
}
