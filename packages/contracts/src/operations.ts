import { z } from 'zod';

/**
 * Operations contracts: the alerts answer, budget status, the kill-switch and the system
 * notifications that the metrics service, workers and api publish for admins.
 */

/** Every alert the metrics service evaluates, in the order they are reported. */
export const alertNames = [
  'queueDepthHigh',
  'queueDepthCritical',
  'failureRateHigh',
  'circuitBreakerOpen',
  'workerStalled',
  'budgetExceeded',
  'killSwitchOn',
] as const;

export const alertNameSchema = z.enum(alertNames);
export type AlertName = z.infer<typeof alertNameSchema>;

/** What the alerts were evaluated from; every number is a current value, not a threshold. */
export const alertValuesSchema = z.object({
  /** Jobs waiting for a worker (BullMQ `waiting` plus `prioritized`). */
  queueDepth: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  delayed: z.number().int().nonnegative(),
  /** Failed share of the jobs that finished within the window (0..1); 0 when none finished. */
  failureRate: z.number().min(0).max(1),
  /** Jobs that finished (completed or failed for good) within the window. */
  finishedInWindow: z.number().int().nonnegative(),
  failedInWindow: z.number().int().nonnegative(),
  /** Workers whose heartbeat is recent. */
  workersLive: z.number().int().nonnegative(),
  /** Workers holding an active job without heartbeat or progress past the limit. */
  workersStalled: z.number().int().nonnegative(),
  /** Workers whose provider circuit breaker is open or half-open (not recovered yet). */
  circuitBreakersOpen: z.number().int().nonnegative(),
  /** This month's spend in USD. */
  budgetSpent: z.number().nonnegative(),
  budgetLimit: z.number().nonnegative(),
  /** Whether the kill-switch refuses new jobs; absent from answers stored before it was reported. */
  killSwitchEnabled: z.boolean().default(false),
});

/** The thresholds and windows in force (from the metrics service's config). */
export const alertThresholdsSchema = z.object({
  queueDepthHigh: z.number().int().nonnegative(),
  queueDepthCritical: z.number().int().nonnegative(),
  failureRate: z.number().min(0).max(1),
  failureRateWindowMs: z.number().int().positive(),
  failureRateMinJobs: z.number().int().nonnegative(),
  workerStallMs: z.number().int().positive(),
  evaluationIntervalMs: z.number().int().positive(),
});

/** `GET /api/metrics/alerts`, served by the metrics service and by the api from the same Redis state. */
export const alertsResponseSchema = z.object({
  // An alert added later reads as off in an answer stored before it existed (rolling deploys).
  alerts: z.object(Object.fromEntries(alertNames.map((name) => [name, z.boolean().default(false)])) as Record<AlertName, z.ZodDefault<z.ZodBoolean>>),
  alertsActive: z.number().int().nonnegative(),
  values: alertValuesSchema,
  thresholds: alertThresholdsSchema,
  evaluatedAt: z.string(),
  /** True when the last evaluation is older than three intervals: the metrics service is not running. */
  stale: z.boolean(),
});

/** The kill-switch as it is now; `changedAt`/`changedBy` are null until it was first changed. */
export const killSwitchStateSchema = z.object({
  enabled: z.boolean(),
  reason: z.string().nullable(),
  /** True when the budget turned it on rather than a person. */
  auto: z.boolean(),
  changedAt: z.string().nullable(),
  changedBy: z.string().nullable(),
});

/** `GET /api/admin/budget/status`. Amounts in USD; `limit` is null until the metrics service has run. */
export const budgetStatusSchema = z.object({
  /** The calendar month (UTC) the spend belongs to, `YYYY-MM`. */
  period: z.string().regex(/^\d{4}-\d{2}$/),
  spent: z.number().nonnegative(),
  limit: z.number().nonnegative().nullable(),
  remaining: z.number().nullable(),
  /** The spend at which the budget warning goes out (limit × BUDGET_WARN_RATIO); null with the limit. */
  warnAt: z.number().nonnegative().nullable(),
  killSwitch: killSwitchStateSchema,
});

/** The body of `POST /api/admin/budget/kill-switch`. A reason is required to turn it on. */
export const killSwitchRequestSchema = z
  .object({
    enabled: z.boolean(),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.enabled && !body.reason) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is required when enabling the kill-switch' });
    }
  });

/** One entry of the kill-switch audit trail: who changed it, when, why. */
export const killSwitchAuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  by: z.string(),
  enabled: z.boolean(),
  reason: z.string().nullable(),
  auto: z.boolean(),
});

const systemBase = { timestamp: z.string() };

/**
 * System notifications, published to the capped Redis stream `keys.system` (field `e` the name,
 * `d` the JSON data) for the notification streams to deliver to admins.
 */
export const systemEventSchemas = {
  /** An alert condition started to hold. */
  alert_started: z.object({ ...systemBase, alert: alertNameSchema, values: alertValuesSchema }),
  /** An alert condition no longer holds. */
  alert_resolved: z.object({ ...systemBase, alert: alertNameSchema, values: alertValuesSchema }),
  /** The kill-switch was turned on or off, by a person or by the budget. */
  kill_switch_changed: z.object({ ...systemBase, enabled: z.boolean(), reason: z.string().nullable(), auto: z.boolean(), changedBy: z.string() }),
  /** The month's spend passed the warning share of the limit. */
  budget_warning: z.object({ ...systemBase, period: z.string(), spent: z.number(), limit: z.number(), ratio: z.number() }),
  /** A worker's provider circuit breaker changed state. */
  circuit_breaker_state: z.object({
    ...systemBase,
    breaker: z.string(),
    worker: z.string(),
    from: z.enum(['closed', 'open', 'half_open']),
    to: z.enum(['closed', 'open', 'half_open']),
    failures: z.number().int().nonnegative(),
  }),
} as const;

export type SystemEventName = keyof typeof systemEventSchemas;
export type SystemEventData<N extends SystemEventName = SystemEventName> = z.infer<(typeof systemEventSchemas)[N]>;
export type AlertValues = z.infer<typeof alertValuesSchema>;
export type AlertThresholds = z.infer<typeof alertThresholdsSchema>;
export type AlertsResponse = z.infer<typeof alertsResponseSchema>;
export type KillSwitchState = z.infer<typeof killSwitchStateSchema>;
export type BudgetStatus = z.infer<typeof budgetStatusSchema>;
export type KillSwitchRequest = z.infer<typeof killSwitchRequestSchema>;
export type KillSwitchAuditEntry = z.infer<typeof killSwitchAuditEntrySchema>;
export type CircuitBreakerStateName = SystemEventData<'circuit_breaker_state'>['to'];

/** What the metrics service stores after each evaluation: the answer without `stale`, which depends on when it is read. */
export const alertsSnapshotSchema = alertsResponseSchema.omit({ stale: true });
export type AlertsSnapshot = z.infer<typeof alertsSnapshotSchema>;

/**
 * The alerts answer from a stored snapshot, read at `now`. Stale after three missed evaluations:
 * a monitor polling `alertsActive` must be able to tell "no alerts" from "nobody evaluates".
 */
export function alertsFromSnapshot(json: string, now: number = Date.now()): AlertsResponse {
  const snapshot = alertsSnapshotSchema.parse(JSON.parse(json));
  const age = now - Date.parse(snapshot.evaluatedAt);
  return { ...snapshot, stale: age > snapshot.thresholds.evaluationIntervalMs * 3 + 1_000 };
}

/**
 * What each worker process writes to `keys.workers` every heartbeat: the jobs it runs and its
 * circuit breakers. The metrics service derives live workers, stalled workers and open breakers.
 */
export const workerHeartbeatSchema = z.object({
  workerId: z.string(),
  host: z.string(),
  pid: z.number().int(),
  /** When this heartbeat was written (ms since epoch). */
  at: z.number().int(),
  /** The worker's heartbeat interval: a worker silent for three of them is not live. */
  intervalMs: z.number().int().positive(),
  activeJobs: z.array(
    z.object({
      jobId: z.string(),
      type: z.string(),
      /** The attempt's start, BullMQ's `processedOn` (ms). */
      startedAt: z.number().int(),
      /** The attempt's last progress report, or its start (ms). */
      lastProgressAt: z.number().int(),
    }),
  ),
  breakers: z.array(
    z.object({
      name: z.string(),
      state: z.enum(['closed', 'open', 'half_open']),
      failures: z.number().int().nonnegative(),
      changedAt: z.number().int(),
    }),
  ),
});
export type WorkerHeartbeat = z.infer<typeof workerHeartbeatSchema>;
