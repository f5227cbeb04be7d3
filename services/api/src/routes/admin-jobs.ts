import { adminJobListQuerySchema, cleanJobsRequestSchema, zodIssuesToDetails } from '@jobstream/contracts';
import { Router } from 'express';
import { requireRole } from '../auth/require-role.js';
import { ApiError } from '../http/api-error.js';
import { listJobsByState } from '../jobs/admin-job-list.js';
import { cleanJobs, type CleanJobsDeps } from '../jobs/clean-jobs.js';

/** GET /api/admin/jobs (every user's jobs in one state) and POST /api/admin/jobs/clean: admins only. */
export function adminJobRoutes(deps: CleanJobsDeps): Router {
  const router = Router();
  router.use('/admin/jobs', requireRole('admin'));

  router.get('/admin/jobs', async (req, res) => {
    const query = adminJobListQuerySchema.safeParse(req.query);
    if (!query.success) throw ApiError.validation(zodIssuesToDetails(query.error, [], '(query)'));
    const page = await listJobsByState({ queue: deps.queue, redis: deps.redis, job: deps.keys.job }, query.data);
    res.set('Cache-Control', 'no-store').json(page);
  });

  router.post('/admin/jobs/clean', async (req, res) => {
    const body = cleanJobsRequestSchema.safeParse(req.body);
    if (!body.success) throw ApiError.validation(zodIssuesToDetails(body.error));
    res.set('Cache-Control', 'no-store').json(await cleanJobs(deps, body.data));
  });

  return router;
}
