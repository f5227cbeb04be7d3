import { Router } from 'express';
import { parseJobId, parseLastEventId } from '../http/request-params.js';
import { openJobStream, type JobStreamDeps } from '../sse/job-stream.js';

/** GET /api/jobs/:id/events and its alias GET /api/job-events?jobId=... */
export function jobEventRoutes(deps: JobStreamDeps): Router {
  const router = Router();
  router.get('/jobs/:id/events', async (req, res) => {
    const jobId = parseJobId(req.params.id);
    await openJobStream(deps, res, jobId, parseLastEventId(req));
  });
  router.get('/job-events', async (req, res) => {
    const jobId = parseJobId(req.query.jobId);
    await openJobStream(deps, res, jobId, parseLastEventId(req));
  });
  return router;
}
