import { Router } from 'express';
import type { ParsedUrlQuery } from 'node:querystring';
import { principalOf } from '../auth/principal.js';
import type { ApiResponse } from '../http/request-context.js';
import { parseJobId, parseLastEventId } from '../http/request-params.js';
import type { StreamRequest } from '../http/stream-routes.js';
import type { StreamSlots } from '../limits/stream-slots.js';
import { openJobStream, type JobStreamDeps } from '../sse/job-stream.js';
import { streamOrRetryLater } from '../sse/stream-or-retry-later.js';

/** Serves one job's stream to an authenticated caller; Express's routes and the stream front door both call it. */
export type JobStreamHandler = (request: StreamRequest, res: ApiResponse, jobId: string) => Promise<void>;

/** The job stream; each stream takes one of `slots` while open. */
export function jobStreamHandler(deps: JobStreamDeps, slots?: StreamSlots): JobStreamHandler {
  return (request, res, jobId) =>
    streamOrRetryLater(request.req, res, deps.retryMs, async () => {
      // The request is checked whole before it takes a slot: a bad cursor is a 400 even at the cap.
      const afterId = parseLastEventId(request);
      await slots?.acquire(res, principalOf(res).userId);
      await openJobStream(deps, res, principalOf(res), jobId, afterId);
    });
}

/**
 * GET /api/jobs/:id/events and its alias GET /api/job-events?jobId=... The stream front door
 * (http/plain-stream-server.ts) serves a plain GET of them; these serve what it leaves to Express
 * and Express routes here: HEAD, a GET with a body, a path only Express's case-insensitive router matches.
 */
export function jobEventRoutes(deps: JobStreamDeps, slots?: StreamSlots): Router {
  const serve = jobStreamHandler(deps, slots);
  const router = Router();
  router.get('/jobs/:id/events', (req, res) => serve({ req, query: req.query as ParsedUrlQuery }, res, parseJobId(req.params.id)));
  router.get('/job-events', (req, res) => serve({ req, query: req.query as ParsedUrlQuery }, res, parseJobId(req.query.jobId)));
  return router;
}
