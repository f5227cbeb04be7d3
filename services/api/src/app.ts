import type { Logger } from '@jobstream/runtime';
import express, { type Express } from 'express';
import type { AuthMode } from './auth/auth-config.js';
import { authenticateRequests, type Authenticator } from './auth/authenticate.js';
import { SignInCodeLimits } from './auth/sign-in-code-limits.js';
import { accessLog } from './http/access-log.js';
import { dashboardRoutes } from './http/dashboard.js';
import { refuseDeclaredOversizedBody } from './http/declared-body-limit.js';
import { errorHandler, notFoundHandler, requireJson } from './http/error-handler.js';
import { limitJsonDepth } from './http/json-depth.js';
import type { SecurityHeaders } from './http/security-headers.js';
import { traceRequests } from './http/trace-requests.js';
import type { StreamSlots } from './limits/stream-slots.js';
import { rememberMountPath } from './metrics/http-metrics.js';
import type { OperationsHttp } from './metrics/operations-http.js';
import type { CleanJobsDeps } from './jobs/clean-jobs.js';
import { adminJobRoutes } from './routes/admin-jobs.js';
import { apiReferenceRoutes } from './routes/api-reference.js';
import { eventCatalogRoutes } from './routes/event-catalog.js';
import { healthRoutes, type HealthDeps } from './routes/health.js';
import { jobControlRoutes, type JobControlRoutesDeps } from './routes/job-control.js';
import { jobEventRoutes } from './routes/job-events.js';
import { jobRoutes, type JobRoutesDeps } from './routes/jobs.js';
import { meRoutes } from './routes/me.js';
import { notificationRoutes, type NotificationRoutesDeps } from './routes/notifications.js';
import { pushRoutes, type PushRoutesDeps } from './routes/push.js';
import { issueSignInCodeRoutes, redeemSignInCodeRoutes, type SignInCodeDeps } from './routes/sign-in-codes.js';
import { webhookRoutes, type WebhookRoutesDeps } from './routes/webhooks.js';
import type { JobStreamDeps } from './sse/job-stream.js';

export interface AppDeps {
  logger: Logger;
  bodyLimitBytes: number;
  /** Who calls each /api request, or its refusal (see auth/authenticate.ts). */
  authenticate: Authenticator;
  authMode: AuthMode;
  jobs: JobRoutesDeps;
  /** Cancel and retry of one job (its owner or an admin). */
  jobControl: JobControlRoutesDeps;
  /** The admin's job browser and clean-up. */
  adminJobs: CleanJobsDeps;
  streams: JobStreamDeps;
  /** The notification stream, the inbox and publishing. */
  notifications: NotificationRoutesDeps;
  health: HealthDeps;
  /** Webhook endpoints and their delivery logs. */
  webhooks: WebhookRoutesDeps;
  /** Push subscriptions and the VAPID public key. */
  push: PushRoutesDeps;
  /** Sign-in codes: Redis and the keys of the codes and their rate limits. */
  signInCodes: SignInCodeDeps;
  /** helmet's headers on everything, CORS on /api (see http/security-headers.ts). */
  security: SecurityHeaders;
  /** Admission of SSE streams: the per-user and per-process caps (see limits/stream-slots.ts). */
  streamSlots: StreamSlots;
  /** Metrics, alerts, admin routes and error reporting. */
  operations?: OperationsHttp;
  /** The built web dashboard served at `/` (DASHBOARD_DIR); default: found from the api's location. */
  dashboardDir?: string | undefined;
}

/**
 * The HTTP surface, assembled from its routers; everything it needs is passed in. Stream requests
 * reach it only in the cases the stream front door leaves to it (http/plain-stream-server.ts,
 * which goes through the same steps as this chain: keep the two in step).
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(traceRequests);
  app.use(deps.security.headers);
  app.use(accessLog(deps.logger));
  if (deps.operations) app.use(deps.operations.requestMetrics);
  const signInCodeLimits = new SignInCodeLimits(deps.signInCodes.redis, deps.signInCodes.keys.signInCodeRateLimit);
  const api = express.Router();
  // Who is calling is settled before a body is read: an anonymous request costs no parsing.
  api.use(authenticateRequests(deps.authenticate));
  api.use(requireJson);
  // Not strict: a scalar body is valid JSON and gets a VALIDATION_FAILED naming the problem, not INVALID_JSON.
  api.use(express.json({ limit: deps.bodyLimitBytes, strict: false }));
  api.use(limitJsonDepth());
  // The routers' paths do not overlap; the job streams go first, as the most frequent requests.
  api.use(jobEventRoutes(deps.streams, deps.streamSlots));
  api.use(jobRoutes(deps.jobs));
  api.use(jobControlRoutes(deps.jobControl));
  api.use(adminJobRoutes(deps.adminJobs));
  api.use(meRoutes(deps.authMode));
  api.use(issueSignInCodeRoutes(deps.signInCodes, deps.authMode, signInCodeLimits));
  api.use(notificationRoutes(deps.notifications));
  api.use(webhookRoutes(deps.webhooks));
  api.use(pushRoutes(deps.push));
  for (const router of deps.operations?.apiRouters ?? []) api.use(router);
  app.use('/api', rememberMountPath);
  // Before anything reads or waits: a body announced larger than the limit is refused at once.
  app.use('/api', refuseDeclaredOversizedBody(deps.bodyLimitBytes));
  // Before authentication: a preflight carries no token and must not be answered 401.
  app.use('/api', deps.security.cors);
  // Public, so before authentication: they describe the api, not anyone's data.
  app.use('/api', eventCatalogRoutes());
  app.use('/api', apiReferenceRoutes());
  // Public too: the code is the credential, and it is good once.
  app.use('/api', redeemSignInCodeRoutes(deps.signInCodes, signInCodeLimits));
  app.use('/api', api);
  // After the api, whose paths they never share: an api request does not walk through them.
  app.use(healthRoutes(deps.health));
  if (deps.operations) app.use(deps.operations.metricsRoute);
  // The dashboard at `/` (index.html and its hashed assets); only its own paths look at the disk.
  app.use(dashboardRoutes({ dir: deps.dashboardDir }));
  app.use(notFoundHandler);
  if (deps.operations) app.use(deps.operations.errorReporter);
  app.use(errorHandler(deps.logger));
  return app;
}
