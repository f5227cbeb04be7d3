import { budgetChargesQuerySchema, queueBreakdownQuerySchema, systemEventsQuerySchema, zodIssuesToDetails, type SystemEventsResponse } from '@jobstream/contracts';
import { readLatestSystemEvents, type JobstreamKeys, type Logger, type RedisClient } from '@jobstream/runtime';
import { Router } from 'express';
import type { z } from 'zod';
import { requireRole } from '../auth/require-role.js';
import { ApiError } from '../http/api-error.js';
import { readBudgetCharges } from '../operations/budget-charges.js';
import { readFeedProgress } from '../operations/feed-progress.js';
import { readQueueBreakdown, type QueueListKeys } from '../operations/queue-breakdown.js';
import { readWorkerStatuses } from '../operations/worker-status.js';

export interface AdminStatusRoutesDeps {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'workers' | 'alerts' | 'system' | 'job' | 'budgetCharged' | 'feed' | 'metricsCursor'>;
  /** BullMQ's waiting list and failed set of the api's queue. */
  queueKeys: QueueListKeys;
  logger: Logger;
}

/** `value` as `schema` says, or a 400 VALIDATION_FAILED naming each bad parameter. */
function parseQuery<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ApiError.validation(zodIssuesToDetails(parsed.error, [], '(query)'));
  return parsed.data;
}

/** A route without parameters answers 400 to any, naming each. */
function refuseParameters(query: object): void {
  const names = Object.keys(query);
  if (names.length > 0) throw ApiError.validation(names.map((name) => ({ path: name, message: 'is not a parameter of this route' })));
}

/**
 * What operators look up during an incident, without Redis access (admins only):
 * GET /api/admin/workers (every worker's heartbeat: its jobs and circuit breakers),
 * GET /api/admin/system-events (the latest alert, kill-switch, budget and breaker notifications),
 * GET /api/admin/feed (how far the metrics service has read the live feed),
 * GET /api/admin/queue/breakdown (who and what is behind a backlog or a failure wave) and
 * GET /api/admin/budget/charges (where the month's money went).
 */
export function adminStatusRoutes(deps: AdminStatusRoutesDeps): Router {
  const router = Router();
  router.get('/admin/workers', requireRole('admin'), async (req, res) => {
    refuseParameters(req.query);
    res.set('Cache-Control', 'no-store').json(await readWorkerStatuses(deps.redis, deps.keys, deps.logger));
  });

  router.get('/admin/system-events', requireRole('admin'), async (req, res) => {
    const query = parseQuery(systemEventsQuerySchema, req.query);
    const body: SystemEventsResponse = { events: await readLatestSystemEvents(deps.redis, deps.keys, query.limit, query.event) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/admin/feed', requireRole('admin'), async (req, res) => {
    refuseParameters(req.query);
    res.set('Cache-Control', 'no-store').json(await readFeedProgress(deps.redis, deps.keys));
  });

  router.get('/admin/queue/breakdown', requireRole('admin'), async (req, res) => {
    const query = parseQuery(queueBreakdownQuerySchema, req.query);
    res.set('Cache-Control', 'no-store').json(await readQueueBreakdown(deps.redis, deps.keys, deps.queueKeys, query));
  });

  router.get('/admin/budget/charges', requireRole('admin'), async (req, res) => {
    const query = parseQuery(budgetChargesQuerySchema, req.query);
    res.set('Cache-Control', 'no-store').json(await readBudgetCharges(deps.redis, deps.keys, query));
  });
  return router;
}
