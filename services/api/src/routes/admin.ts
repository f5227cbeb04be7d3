import { killSwitchRequestSchema, zodIssuesToDetails, type KillSwitchState } from '@jobstream/contracts';
import {
  readBudgetStatus,
  readKillSwitch,
  readKillSwitchAudit,
  setKillSwitch,
  type JobstreamKeys,
  type KillSwitchWatcher,
  type Logger,
  type RedisClient,
} from '@jobstream/runtime';
import { Router, type Request } from 'express';
import { principalOf } from '../auth/principal.js';
import { requireRole } from '../auth/require-role.js';
import { ApiError } from '../http/api-error.js';
import { requestLog } from '../http/request-context.js';

export interface AdminRoutesDeps {
  redis: RedisClient;
  keys: JobstreamKeys;
  logger: Logger;
}

/** Seconds a refused client is told to wait: the switch stays on until a person or a new month turns it off. */
const KILL_SWITCH_RETRY_AFTER_SECONDS = '60';

/** GET /api/admin/budget/status, POST /api/admin/budget/kill-switch, GET /api/admin/budget/kill-switch/audit. */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  router.use('/admin', requireRole('admin'));

  router.get('/admin/budget/status', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await readBudgetStatus(deps.redis, deps.keys));
  });

  router.post('/admin/budget/kill-switch', async (req, res) => {
    const body = killSwitchRequestSchema.safeParse(req.body);
    if (!body.success) throw ApiError.validation(zodIssuesToDetails(body.error));
    const by = principalOf(res).userId;
    const reason = body.data.reason ?? null;
    await setKillSwitch(deps.redis, deps.keys, { enabled: body.data.enabled, reason, changedBy: by, auto: false });
    requestLog(res, deps.logger).warn({ enabled: body.data.enabled, reason, by, ip: req.ip }, `kill-switch turned ${body.data.enabled ? 'on' : 'off'} by an admin`);
    res.set('Cache-Control', 'no-store').json(await readKillSwitch(deps.redis, deps.keys));
  });

  router.get('/admin/budget/kill-switch/audit', async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 20) || 20, 1), 1_000);
    res.set('Cache-Control', 'no-store').json({ entries: await readKillSwitchAudit(deps.redis, deps.keys, limit) });
  });
  return router;
}

/** Why new jobs are refused, as the user reads it: the budget ran out, or an operator paused intake. */
export function killSwitchRefusal(state: Pick<KillSwitchState, 'auto' | 'reason'>): string {
  const reason = state.reason ? `: ${state.reason}` : '';
  return state.auto ? `The budget limit was reached, so new jobs are refused${reason}` : `An operator paused new jobs${reason}`;
}

/**
 * The `admit` hook of the job routes: refuses new jobs while the kill-switch is on, from the
 * replica's in-memory copy (no Redis round trip per request). Jobs already queued keep running.
 * The code stays BUDGET_LIMIT_EXCEEDED whoever turned the switch on (clients switch on it); the
 * message says which.
 */
export function killSwitchAdmission(watcher: Pick<KillSwitchWatcher, 'current'>): (req: Request) => Promise<void> {
  return async () => {
    const state = watcher.current;
    if (!state.enabled) return;
    throw new ApiError(429, 'BUDGET_LIMIT_EXCEEDED', killSwitchRefusal(state), undefined, { 'Retry-After': KILL_SWITCH_RETRY_AFTER_SECONDS });
  };
}
