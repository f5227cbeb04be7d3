import { openApiDocument, renderApiReference } from '@jobstream/contracts';
import { Router } from 'express';

/**
 * GET /api/openapi.json (the OpenAPI 3.1 document) and GET /api/docs (the same as an HTML page),
 * generated from the contracts package. Public (mounted before authentication): they describe the
 * api, not anyone's data.
 */
export function apiReferenceRoutes(): Router {
  const router = Router();
  let page: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(openApiDocument());
  });
  router.get('/docs', (_req, res) => {
    page ??= renderApiReference(openApiDocument(), { documentHref: '/api/openapi.json' });
    res.set('Cache-Control', 'public, max-age=300').type('html').send(page);
  });
  return router;
}
