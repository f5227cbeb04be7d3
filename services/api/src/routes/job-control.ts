import { Router, type Request, type Response } from 'express';
import { principalOf } from '../auth/principal.js';
import { parseJobId } from '../http/request-params.js';
import { cancelJob, type JobControlDeps } from '../jobs/cancel-job.js';
import { retryJob } from '../jobs/retry-job.js';

export interface JobControlRoutesDeps extends JobControlDeps {
  /** The job routes' admission (kill-switch, rate limit): a retry is refused like a new job. */
  admit?: (req: Request, res: Response) => Promise<void>;
  /** The cancel allowance (rate limit) of the caller; the kill-switch never stops a cancel. */
  admitCancel?: (req: Request, res: Response) => Promise<void>;
  /** The job routes' quota reservation, for the job's owner. */
  reserve?: (res: Response, claim: { owner: string; jobId: string; payloadBytes: number }) => Promise<() => Promise<void>>;
}

/** POST /api/jobs/:id/cancel and POST /api/jobs/:id/retry: the job's owner or an admin. */
export function jobControlRoutes(deps: JobControlRoutesDeps): Router {
  const router = Router();

  router.post('/jobs/:id/cancel', async (req, res) => {
    // Every cancel costs a point, of a job that exists or not: a loop of them must not be free.
    const jobId = parseJobId(req.params.id);
    await deps.admitCancel?.(req, res);
    const answer = await cancelJob(deps, principalOf(res), jobId);
    res.status(202).set('Cache-Control', 'no-store').json(answer);
  });

  router.post('/jobs/:id/retry', async (req, res) => {
    const answer = await retryJob(deps, principalOf(res), parseJobId(req.params.id), {
      basePath: '/api',
      admit: async () => deps.admit?.(req, res),
      reserve: async (claim) => deps.reserve?.(res, claim),
    });
    res.status(202).set('Location', answer.links.self).set('Cache-Control', 'no-store').json(answer);
  });

  return router;
}
