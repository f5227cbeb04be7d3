import type { RedisClient } from '@jobstream/runtime';
import { Router } from 'express';
import { ApiError } from '../http/api-error.js';

export interface HealthDeps {
  redis: RedisClient;
  /** False once shutdown began, so load balancers stop sending traffic first. */
  isAccepting: () => boolean;
}

/** /healthz: the process answers. /readyz: it can do its work (Redis reachable, not shutting down). */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (!deps.isAccepting()) {
      res.status(503).json({ error: 'Shutting down', code: 'SHUTTING_DOWN' });
      return;
    }
    try {
      await deps.redis.ping();
    } catch {
      throw ApiError.redisUnavailable();
    }
    res.json({ status: 'ready' });
  });
  return router;
}
