import { z } from 'zod';
import { cancelJobResponseSchema, adminJobListQuerySchema, adminJobListResponseSchema, cleanJobsRequestSchema, cleanJobsResponseSchema } from '../job-control.js';
import { jobIdSchema, enqueueResponseSchema, idempotencyKeySchema, jobListQuerySchema, jobListResponseSchema, jobSnapshotSchema, jobSubmissionSchema, queueStatsSchema } from '../jobs.js';
import { flashcardsGenerate, jobTypeNames, jobTypes, type JobTypeName } from '../job-types/index.js';
import { withJobResults } from './job-results.js';
import type { ApiRoute } from './route-table.js';

/** One job type's submission: its name and its own payload schema. */
const submissionOf = (name: JobTypeName) =>
  jobSubmissionSchema.extend({ type: z.literal(name), payload: jobTypes[name].payload }).meta({ title: name, description: jobTypes[name].description });

/** The body of `POST /api/jobs`, one shape per job type. */
function jobSubmissionBodySchema(): z.ZodType {
  const [first, ...others] = jobTypeNames;
  return z.discriminatedUnion('type', [submissionOf(first), ...others.map(submissionOf)]);
}

/** The flashcards route's body: the payload itself, with the submission's own fields beside it. */
const flashcardsBodySchema = flashcardsGenerate.payload.extend({
  idempotencyKey: idempotencyKeySchema.optional(),
  callbackUrl: jobSubmissionSchema.shape.callbackUrl,
});

const jobId = { id: 'The job id (a lowercase UUID) from the submission.' };
const idempotencyKey = { 'Idempotency-Key': 'Makes the submission safe to retry: the same key from the same user names the same job.' };
const SUBMISSION_REFUSALS = ['BUDGET_LIMIT_EXCEEDED', 'RATE_LIMITED', 'JOB_QUOTA_EXCEEDED', 'STORAGE_QUOTA_EXCEEDED', 'REDIS_UNAVAILABLE'] as const;
const jobStream = 'The job lifecycle as Server-Sent Events: `connected` with the job, its stored events after the cursor, then live ones (see docs/asyncapi.json).';

export function jobRoutesTable(): ApiRoute[] {
  const snapshot = withJobResults(jobSnapshotSchema);
  return [
    {
      method: 'post', path: '/api/jobs', tag: 'Jobs', summary: 'Submit a job',
      description: "The payload is checked against the job type's own schema. `202` with the job's links; a replayed idempotency key answers the same job with `Idempotent-Replayed: true`.",
      access: 'user', headers: idempotencyKey, body: jobSubmissionBodySchema(),
      responses: { 202: { description: 'Accepted: the job is queued.', schema: enqueueResponseSchema } },
      errors: [...SUBMISSION_REFUSALS, 'IDEMPOTENCY_KEY_REUSED', 'WEBHOOK_TARGET_REFUSED'],
    },
    {
      method: 'post', path: '/api/ai/generate-flashcards', tag: 'Jobs', summary: 'Submit a flashcards.generate job (its payload as the body)',
      access: 'user', headers: idempotencyKey, body: flashcardsBodySchema,
      responses: { 202: { description: 'Accepted: the job is queued.', schema: enqueueResponseSchema } },
      errors: [...SUBMISSION_REFUSALS, 'IDEMPOTENCY_KEY_REUSED', 'WEBHOOK_TARGET_REFUSED'],
    },
    {
      method: 'get', path: '/api/jobs', tag: 'Jobs', summary: "The caller's own jobs, newest first", access: 'user', query: jobListQuerySchema,
      responses: { 200: { description: 'One page; `nextCursor` is null on the last.', schema: jobListResponseSchema.extend({ jobs: z.array(snapshot) }) } },
      errors: ['INVALID_CURSOR', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/jobs/:id', tag: 'Jobs', summary: 'One job as it is now (its owner or an admin)', access: 'user', pathParams: jobId,
      responses: { 200: { description: 'The job.', schema: snapshot } },
      errors: ['INVALID_JOB_ID', 'JOB_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/job-status/:id', tag: 'Jobs', summary: 'Alias of GET /api/jobs/{id}', access: 'user', pathParams: jobId,
      responses: { 200: { description: 'The job.', schema: snapshot } },
      errors: ['INVALID_JOB_ID', 'JOB_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/jobs/:id/events', tag: 'Jobs', summary: "A job's event stream (SSE)", description: jobStream,
      access: 'user', stream: true, pathParams: jobId,
      responses: { 200: { description: 'The stream.', contentType: 'text/event-stream' } },
      errors: ['INVALID_JOB_ID', 'JOB_NOT_FOUND'],
    },
    {
      method: 'get', path: '/api/job-events', tag: 'Jobs', summary: "A job's event stream (SSE), the job named in the query", description: jobStream,
      access: 'user', stream: true, query: z.object({ jobId: jobIdSchema }),
      responses: { 200: { description: 'The stream.', contentType: 'text/event-stream' } },
      errors: ['INVALID_JOB_ID', 'JOB_NOT_FOUND'],
    },
    {
      method: 'post', path: '/api/jobs/:id/cancel', tag: 'Jobs', summary: 'Cancel a job (its owner or an admin)',
      description: '`removed` for a job that had not started, `stop_requested` for a running one; its stream ends with `cancelled`.',
      access: 'user', pathParams: jobId,
      responses: { 202: { description: 'The cancel is under way.', schema: cancelJobResponseSchema } },
      errors: ['INVALID_JOB_ID', 'RATE_LIMITED', 'JOB_NOT_FOUND', 'JOB_ALREADY_FINISHED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/jobs/:id/retry', tag: 'Jobs', summary: 'Retry a failed job (its owner or an admin)',
      description: 'A retry is new work: the same admission, rate limit and quotas as a submission.',
      access: 'user', pathParams: jobId,
      responses: { 202: { description: 'The job is queued again.', schema: enqueueResponseSchema } },
      errors: [...SUBMISSION_REFUSALS, 'INVALID_JOB_ID', 'JOB_NOT_FOUND', 'JOB_NOT_RETRYABLE'],
    },
    {
      method: 'get', path: '/api/queue/stats', tag: 'Jobs', summary: 'Job counts of the queue by state', access: 'user',
      responses: { 200: { description: 'The counts.', schema: queueStatsSchema } },
      errors: ['REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/admin/jobs', tag: 'Operations', summary: "Browse everyone's jobs in one state", access: ['admin'], query: adminJobListQuerySchema,
      responses: { 200: { description: 'One page; `nextCursor` is null on the last.', schema: adminJobListResponseSchema } },
      errors: ['INVALID_CURSOR', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/admin/jobs/clean', tag: 'Operations', summary: 'Remove finished jobs older than an age', access: ['admin'], body: cleanJobsRequestSchema,
      responses: { 200: { description: 'How many were removed.', schema: cleanJobsResponseSchema } },
      errors: ['REDIS_UNAVAILABLE'],
    },
  ];
}
