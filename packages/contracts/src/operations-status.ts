import { z } from 'zod';
import { alertsSnapshotSchema, systemEventSchemas, type SystemEventName } from './operations.js';

/**
 * What operators read besides the alerts: each worker's heartbeat as the api reads it, and the
 * recent system notifications (`GET /api/admin/workers`, `GET /api/admin/system-events`).
 */

const breakerStateSchema = z.enum(['closed', 'open', 'half_open']);

/** One worker process, from its latest heartbeat, with ages measured when the api answered. */
export const workerStatusSchema = z.object({
  workerId: z.string(),
  host: z.string(),
  pid: z.number().int(),
  heartbeatAt: z.string(),
  /** Milliseconds since that heartbeat. */
  heartbeatAgeMs: z.number().int().nonnegative(),
  /** The heartbeat is within three of the worker's intervals (the metrics service's rule). */
  live: z.boolean(),
  /**
   * It holds a job with no heartbeat or no progress for longer than the metrics service's
   * ALERT_WORKER_STALL_MS; null while no alert evaluation says what that limit is.
   */
  stalled: z.boolean().nullable(),
  activeJobs: z.array(
    z.object({
      jobId: z.string(),
      type: z.string(),
      startedAt: z.string(),
      /** Milliseconds since the attempt started. */
      runningMs: z.number().int().nonnegative(),
      /** Milliseconds since its last progress report (or its start). */
      silentMs: z.number().int().nonnegative(),
    }),
  ),
  breakers: z.array(
    z.object({
      name: z.string(),
      state: breakerStateSchema,
      failures: z.number().int().nonnegative(),
      changedAt: z.string(),
    }),
  ),
});

/** `GET /api/admin/workers`: every worker with a heartbeat in Redis, the longest silent first. */
export const workersResponseSchema = z.object({
  at: z.string(),
  /** ALERT_WORKER_STALL_MS as the last alert evaluation reported it; null before the first one. */
  stallMs: alertsSnapshotSchema.shape.thresholds.shape.workerStallMs.nullable(),
  workers: z.array(workerStatusSchema),
});

export const systemEventNames = Object.keys(systemEventSchemas) as [SystemEventName, ...SystemEventName[]];

/** Most entries one call of `GET /api/admin/system-events` returns. */
export const SYSTEM_EVENTS_PAGE_MAX = 1_000;

/** The query of `GET /api/admin/system-events`: how many, and optionally only one kind. */
export const systemEventsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(SYSTEM_EVENTS_PAGE_MAX).default(20),
    event: z.enum(systemEventNames).optional(),
  })
  .strict();

/** One stored system notification: its stream id, its name and its data (as its contract says). */
export const systemEventEntrySchema = z.object({
  id: z.string(),
  event: z.enum(systemEventNames),
  data: z.record(z.string(), z.unknown()),
});

/** `GET /api/admin/system-events`: the latest system notifications, newest first. */
export const systemEventsResponseSchema = z.object({ events: z.array(systemEventEntrySchema) });

export type WorkerStatus = z.infer<typeof workerStatusSchema>;
export type WorkersResponse = z.infer<typeof workersResponseSchema>;
export type SystemEventsQuery = z.infer<typeof systemEventsQuerySchema>;
export type SystemEventEntry = z.infer<typeof systemEventEntrySchema>;
export type SystemEventsResponse = z.infer<typeof systemEventsResponseSchema>;

/** Most jobs one breakdown looks at. */
export const QUEUE_BREAKDOWN_MAX = 1_000;

/** The query of `GET /api/admin/queue/breakdown`: the oldest waiting or the newest failed jobs, how many. */
export const queueBreakdownQuerySchema = z
  .object({
    state: z.enum(['waiting', 'failed']),
    limit: z.coerce.number().int().min(1).max(QUEUE_BREAKDOWN_MAX).default(100),
  })
  .strict();

const jobCount = z.number().int().positive();

/**
 * `GET /api/admin/queue/breakdown`: who submitted those jobs, of which types, and (failed jobs)
 * with which errors, most jobs first. `owner` is `(unknown)` for a job stored without one.
 */
export const queueBreakdownResponseSchema = z.object({
  state: z.enum(['waiting', 'failed']),
  /** Jobs looked at: at most `limit`, fewer when the queue holds fewer. */
  jobs: z.number().int().nonnegative(),
  byOwner: z.array(z.object({ owner: z.string(), jobs: jobCount })),
  byType: z.array(z.object({ type: z.string(), jobs: jobCount })),
  /**
   * Failed jobs only (empty for waiting ones): the error's first line, cut at 200 characters, and
   * the newest job that failed with it, to look at (`jobstream job <id>`).
   */
  byError: z.array(z.object({ error: z.string(), jobs: jobCount, newestJobId: z.string() })),
});

/** Most charged jobs one call of `GET /api/admin/budget/charges` lists. */
export const BUDGET_CHARGES_MAX = 100;

/** The query of `GET /api/admin/budget/charges`: a month (`YYYY-MM`, default the current one) and how many jobs. */
export const budgetChargesQuerySchema = z
  .object({
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM').optional(),
    limit: z.coerce.number().int().min(1).max(BUDGET_CHARGES_MAX).default(10),
  })
  .strict();

/** `GET /api/admin/budget/charges`: the month's most expensive jobs and who submitted them. */
export const budgetChargesResponseSchema = z.object({
  period: z.string(),
  /** Every job charged in the month. */
  jobsCharged: z.number().int().nonnegative(),
  /** USD, the sum of every charge of the month. */
  total: z.number().nonnegative(),
  jobs: z.array(
    z.object({
      jobId: z.string(),
      cost: z.number().nonnegative(),
      /** Null once the job is gone (past JOB_RETENTION_SECONDS). */
      owner: z.string().nullable(),
    }),
  ),
});

export type QueueBreakdownQuery = z.infer<typeof queueBreakdownQuerySchema>;
export type QueueBreakdownResponse = z.infer<typeof queueBreakdownResponseSchema>;
export type BudgetChargesQuery = z.infer<typeof budgetChargesQuerySchema>;
export type BudgetChargesResponse = z.infer<typeof budgetChargesResponseSchema>;

/**
 * `GET /api/admin/feed`: how far the metrics service has read the live feed it accounts jobs and
 * charges from. Ids are Redis stream ids; times are theirs.
 */
export const feedProgressResponseSchema = z.object({
  /** The newest feed entry, or null while the feed is empty. */
  newestId: z.string().nullable(),
  newestAt: z.string().nullable(),
  /** The last entry the metrics service accounted for, or null before its first. */
  metricsCursor: z.string().nullable(),
  metricsCursorAt: z.string().nullable(),
  /** Entries after the cursor (counted up to 10,000: `10000` means at least that many). */
  behindEntries: z.number().int().nonnegative(),
  /** From the cursor's entry to the newest one; 0 when caught up. */
  behindMs: z.number().int().nonnegative(),
});

export type FeedProgressResponse = z.infer<typeof feedProgressResponseSchema>;
