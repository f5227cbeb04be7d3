import type { AuthMode, MeResponse } from '@jobstream/contracts';
import { Router } from 'express';
import { hasRole, principalOf } from '../auth/principal.js';

/** GET /api/me: who the api takes the caller for, so a client can show the user, their roles and the topics they may follow. */
export function meRoutes(authMode: AuthMode): Router {
  const router = Router();
  router.get('/me', (_req, res) => {
    const principal = principalOf(res);
    // The publishers may follow any topic (see topic-grants.ts); everyone else their patterns.
    const topics = hasRole(principal, 'admin') || hasRole(principal, 'service') ? ['*'] : [...(principal.topics ?? [])];
    const answer: MeResponse = { userId: principal.userId, roles: [...principal.roles].sort(), authMode, topics };
    res.set('Cache-Control', 'no-store').json(answer);
  });
  return router;
}
