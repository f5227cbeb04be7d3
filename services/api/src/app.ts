import type { Logger } from '@jobstream/runtime';
import express, { type Express, type RequestHandler } from 'express';
import type { AuthMode } from './auth/auth-config.js';
import { errorHandler, notFoundHandler, requireJson } from './http/error-handler.js';
import { requestLogger } from './http/request-logger.js';
import type { OperationsHttp } from './metrics/operations-http.js';
import { healthRoutes, type HealthDeps } from './routes/health.js';
import { jobEventRoutes } from './routes/job-events.js';
import { jobRoutes, type JobRoutesDeps } from './routes/jobs.js';
import { meRoutes } from './routes/me.js';
import type { JobStreamDeps } from './sse/job-stream.js';

export interface AppDeps {
  logger: Logger;
  bodyLimitBytes: number;
  /** Sets the caller on every /api request, or refuses it (see auth/authenticate.ts). */
  authenticate: RequestHandler;
  authMode: AuthMode;
  jobs: JobRoutesDeps;
  streams: JobStreamDeps;
  health: HealthDeps;
  /** Metrics, alerts, admin routes and error reporting. */
  operations?: OperationsHttp;
}

/** The HTTP surface, assembled from its routers; everything it needs is passed in. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogger(deps.logger));
  if (deps.operations) app.use(deps.operations.requestMetrics);
  app.use(healthRoutes(deps.health));
  if (deps.operations) app.use(deps.operations.metricsRoute);
  const api = express.Router();
  // Who is calling is settled before a body is read: an anonymous request costs no parsing.
  api.use(deps.authenticate);
  api.use(requireJson);
  // Not strict: a scalar body is valid JSON and gets a VALIDATION_FAILED naming the problem, not INVALID_JSON.
  api.use(express.json({ limit: deps.bodyLimitBytes, strict: false }));
  api.use(meRoutes(deps.authMode));
  api.use(jobRoutes(deps.jobs));
  api.use(jobEventRoutes(deps.streams));
  for (const router of deps.operations?.apiRouters ?? []) api.use(router);
  app.use('/api', api);
  app.use(notFoundHandler);
  if (deps.operations) app.use(deps.operations.errorReporter);
  app.use(errorHandler(deps.logger));
  return app;
}
