import { alertsFromSnapshot } from '@jobstream/contracts';
import type { JobstreamKeys, RedisClient } from '@jobstream/runtime';
import { Router } from 'express';
import { requireRole } from '../auth/require-role.js';
import { ApiError } from '../http/api-error.js';

export interface AlertRoutesDeps {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'alerts'>;
}

/**
 * GET /api/metrics/alerts (admins): the metrics service's latest evaluation, read from Redis, so every
 * replica and the metrics service itself give the same answer.
 */
export function alertRoutes(deps: AlertRoutesDeps): Router {
  const router = Router();
  router.get('/metrics/alerts', requireRole('admin'), async (_req, res) => {
    const stored = await deps.redis.get(deps.keys.alerts);
    if (!stored) throw new ApiError(503, 'ALERTS_UNAVAILABLE', 'No alert evaluation yet: is the metrics service running?', undefined, { 'Retry-After': '5' });
    res.set('Cache-Control', 'no-store').json(alertsFromSnapshot(stored));
  });
  return router;
}
