import { eventCatalog } from '@jobstream/contracts';
import { Router } from 'express';

/**
 * GET /api/events/catalog: every message of the notification stream with its channel, default
 * severity, description and JSON Schema, generated from the contracts package. Public (mounted
 * before authentication): it describes the api, not anyone's data.
 */
export function eventCatalogRoutes(): Router {
  const router = Router();
  router.get('/events/catalog', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(eventCatalog());
  });
  return router;
}
