import { Router, type Request, type Response } from 'express';
import { principalOf } from '../auth/principal.js';
import { parseJobId, parseLastEventId } from '../http/request-params.js';
import type { StreamSlots } from '../limits/stream-slots.js';
import { openJobStream, type JobStreamDeps } from '../sse/job-stream.js';
import { streamOrRetryLater } from '../sse/stream-or-retry-later.js';

/** GET /api/jobs/:id/events and its alias GET /api/job-events?jobId=...; each stream takes one of `slots` while open. */
export function jobEventRoutes(deps: JobStreamDeps, slots?: StreamSlots): Router {
  const serve = (req: Request, res: Response, jobId: string): Promise<void> =>
    streamOrRetryLater(req, res, deps.retryMs, async () => {
      // The request is checked whole before it takes a slot: a bad cursor is a 400 even at the cap.
      const afterId = parseLastEventId(req);
      await slots?.acquire(res, principalOf(res).userId);
      await openJobStream(deps, res, principalOf(res), jobId, afterId);
    });
  const router = Router();
  router.get('/jobs/:id/events', (req, res) => serve(req, res, parseJobId(req.params.id)));
  router.get('/job-events', (req, res) => serve(req, res, parseJobId(req.query.jobId)));
  return router;
}
