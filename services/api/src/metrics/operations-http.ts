import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';
import { Router } from 'express';
import type { PlainErrorHandler, PlainMiddleware } from '../http/request-context.js';
import { adminStatusRoutes } from '../routes/admin-status.js';
import { adminRoutes } from '../routes/admin.js';
import { alertRoutes } from '../routes/alerts.js';
import type { QueueListKeys } from '../operations/queue-breakdown.js';
import type { EventHub } from '../sse/event-hub.js';
import { createApiMetrics } from './api-metrics.js';
import { httpMetrics } from './http-metrics.js';
import { deliveryLagObserver } from './delivery-lag.js';
import { sentryErrorReporter } from './sentry.js';

/** The operations parts of the api's HTTP surface, plugged into `createApp`. */
export interface OperationsHttp {
  /** First middleware: counts and times every request. */
  requestMetrics: PlainMiddleware;
  /** GET /metrics (absent when the api's metrics are turned off). */
  metricsRoute: Router;
  /** Mounted under /api: the alerts answer and the admin routes. */
  apiRouters: Router[];
  /** Before the error handler: reports 500s to Sentry. */
  errorReporter: PlainErrorHandler;
}

export interface OperationsHttpDeps {
  redis: RedisClient;
  keys: JobstreamKeys;
  /** BullMQ's waiting list and failed set, for the admin breakdown. */
  queueKeys: QueueListKeys;
  hub: EventHub;
  logger: Logger;
  /** Whether GET /metrics is served. */
  metricsEnabled: boolean;
}

export function createOperationsHttp(deps: OperationsHttpDeps): OperationsHttp {
  const metrics = createApiMetrics({ sseConnections: () => deps.hub.size, eventsDelivered: () => deps.hub.delivered, sseQueuedBytes: () => deps.hub.queuedBytes() });
  deps.hub.observeDispatch(deliveryLagObserver(metrics.deliveryLag));
  const metricsRoute = Router();
  if (deps.metricsEnabled) {
    metricsRoute.get('/metrics', async (_req, res) => {
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }
  return {
    requestMetrics: httpMetrics(metrics),
    metricsRoute,
    apiRouters: [
      alertRoutes({ redis: deps.redis, keys: deps.keys }),
      adminRoutes({ redis: deps.redis, keys: deps.keys, logger: deps.logger, }),
      adminStatusRoutes({ redis: deps.redis, keys: deps.keys, queueKeys: deps.queueKeys, logger: deps.logger }),
    ],
    errorReporter: sentryErrorReporter,
  };
}
