import { z } from 'zod';
import { JOB_LIST_PAGE_MAX } from './jobs.js';

/**
 * `POST /api/jobs/:id/cancel` (202): `removed` for a job that had not started (it is gone, its
 * stream ends with `cancelled`), `stop_requested` for a running one (its handler is signalled; the
 * stream ends with `cancelled` once it stops).
 */
export const cancelJobResponseSchema = z.object({
  jobId: z.string(),
  action: z.enum(['removed', 'stop_requested']),
});
export type CancelJobResponse = z.infer<typeof cancelJobResponseSchema>;

/**
 * The states `GET /api/admin/jobs` browses, as BullMQ names them, and `cancelled`: the failed jobs
 * that were stopped by a cancel while they ran (those cancelled before they ran are removed).
 */
export const adminJobStates = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'cancelled'] as const;
export const adminJobStateSchema = z.enum(adminJobStates);
export type AdminJobState = z.infer<typeof adminJobStateSchema>;

/** The query of `GET /api/admin/jobs`: one state, a page size and the `nextCursor` of the page before. */
export const adminJobListQuerySchema = z
  .object({
    state: adminJobStateSchema,
    limit: z.coerce.number().int().min(1).max(JOB_LIST_PAGE_MAX).default(20),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export type AdminJobListQuery = z.output<typeof adminJobListQuerySchema>;

/** One job as an operator browses it, whoever owns it. */
export const adminJobRowSchema = z.object({
  jobId: z.string(),
  type: z.string(),
  /** The user who submitted it; null for a job without one (added to the queue by something else). */
  owner: z.string().nullable(),
  state: adminJobStateSchema,
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  attemptsMade: z.number().int().nonnegative(),
  failedReason: z.string().optional(),
  /** Who stopped it while it ran, for a failed job that was cancelled. */
  cancelledBy: z.enum(['owner', 'admin']).optional(),
});
export type AdminJobRow = z.infer<typeof adminJobRowSchema>;

/** `GET /api/admin/jobs`: newest first (by finish time for finished jobs, run-at for delayed ones). */
export const adminJobListResponseSchema = z.object({
  jobs: z.array(adminJobRowSchema),
  nextCursor: z.string().nullable(),
});
export type AdminJobListResponse = z.infer<typeof adminJobListResponseSchema>;

/** Most jobs one `POST /api/admin/jobs/clean` removes. */
export const CLEAN_JOBS_MAX = 10_000;
/** Ten years: an age beyond it is a mistake, not a policy. */
export const CLEAN_MAX_AGE_SECONDS = 10 * 366 * 24 * 3_600;

/** The body of `POST /api/admin/jobs/clean`. */
export const cleanJobsRequestSchema = z
  .object({
    state: z.enum(['completed', 'failed']),
    /** Jobs that finished at least this long ago are removed. */
    olderThanSeconds: z.number().int().min(0).max(CLEAN_MAX_AGE_SECONDS),
    limit: z.number().int().min(1).max(CLEAN_JOBS_MAX).default(1_000),
  })
  .strict();
export type CleanJobsRequest = z.input<typeof cleanJobsRequestSchema>;

/** `POST /api/admin/jobs/clean`: how many jobs it removed. */
export const cleanJobsResponseSchema = z.object({
  state: z.enum(['completed', 'failed']),
  removed: z.number().int().nonnegative(),
});
export type CleanJobsResponse = z.infer<typeof cleanJobsResponseSchema>;
