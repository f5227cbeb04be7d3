import type { AuthMode, MeResponse } from '@jobstream/contracts';
import { Router } from 'express';
import { principalOf } from '../auth/principal.js';

/** GET /api/me: who the api takes the caller for, so a client can show the user and their roles. */
export function meRoutes(authMode: AuthMode): Router {
  const router = Router();
  router.get('/me', (_req, res) => {
    const principal = principalOf(res);
    const answer: MeResponse = { userId: principal.userId, roles: [...principal.roles].sort(), authMode };
    res.set('Cache-Control', 'no-store').json(answer);
  });
  return router;
}
