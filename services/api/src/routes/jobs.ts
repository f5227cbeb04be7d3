import { jobListQuerySchema, zodIssuesToDetails } from '@jobstream/contracts';
import { jsonBytes, type Logger } from '@jobstream/runtime';
import type { JobCallbacks } from '../webhooks/job-callbacks.js';
import type { Queue } from 'bullmq';
import { Router, type Request, type Response } from 'express';
import { principalOf } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import { requestLog } from '../http/request-context.js';
import { idempotencyKeyFrom, parseJobId } from '../http/request-params.js';
import { enqueueJob, parseSubmission } from '../jobs/enqueue.js';
import type { JobIndex } from '../jobs/job-index.js';
import type { JobStore } from '../jobs/job-store.js';
import { listOwnJobs } from '../jobs/list-jobs.js';

export interface JobRoutesDeps {
  queue: Queue;
  store: JobStore;
  /** Each user's jobs, newest first, for `GET /api/jobs`; written at every accepted submission. */
  index: JobIndex;
  retentionSeconds: number;
  /** Keys the ids of jobs submitted with an idempotency key (JOB_ID_SECRET, or the one kept in Redis). */
  jobIdSecret: string;
  logger: Logger;
  /** Drops what a job of this id left behind (its history) before a new one is added under it. */
  forgetHistory?: (jobId: string) => Promise<unknown>;
  /** Runs after the submission was validated and before the job is accepted; throws an ApiError to refuse it. */
  admit?: (req: Request, res: Response) => Promise<void>;
  /**
   * Runs for a new job (never for an idempotent replay) once its id is known, before it is added:
   * counts it against its owner's quotas or throws an ApiError; returns how to take the count back.
   */
  reserve?: (res: Response, claim: { owner: string; jobId: string; payloadBytes: number }) => Promise<() => Promise<void>>;
  /** Checks a submission's `callbackUrl` and keeps it for the job's outcome (see webhooks/job-callbacks.ts). */
  callbacks?: JobCallbacks;
}

function asObject(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** POST /api/jobs, the flashcards alias, GET /api/jobs (the caller's jobs) and the job snapshot routes. */
export function jobRoutes(deps: JobRoutesDeps): Router {
  const router = Router();

  const submit = async (req: Request, res: Response, body: unknown): Promise<void> => {
    const submission = parseSubmission(body);
    await deps.admit?.(req, res);
    const owner = principalOf(res).userId;
    const reserve = deps.reserve;
    const callbackUrl = submission.callbackUrl === undefined ? undefined : await deps.callbacks?.check(owner, submission.callbackUrl);
    const { response, replayed, createdAtMs } = await enqueueJob(deps.queue, submission, {
      retentionSeconds: deps.retentionSeconds,
      basePath: '/api',
      owner,
      jobIdSecret: deps.jobIdSecret,
      reserve: async (jobId) => {
        const undo = await reserve?.(res, { owner, jobId, payloadBytes: jsonBytes(submission.payload) });
        // Written before the job exists, so its outcome always finds it; a job that is never added leaves it to expire.
        if (callbackUrl !== undefined) await deps.callbacks?.remember(jobId, callbackUrl);
        return undo ?? (async () => undefined);
      },
      ...(deps.forgetHistory ? { forgetHistory: deps.forgetHistory } : {}),
    });
    // The job exists from here on, whatever happens to the index: answering an error now would make
    // a client without an idempotency key submit it twice. Without its entry the job is still
    // reachable by id and on the streams; it is only missing from GET /api/jobs (a replay of the
    // same idempotency key writes the entry again).
    await deps.index.record(owner, response.jobId, createdAtMs).catch((err: unknown) => {
      requestLog(res, deps.logger).warn({ err, jobId: response.jobId }, 'could not add the job to its owner\'s job list');
    });
    res.status(202).set('Location', response.links.self);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.json(response);
  };

  router.post('/jobs', async (req, res) => {
    const body = asObject(req.body);
    const key = idempotencyKeyFrom(req, body);
    await submit(req, res, key === undefined ? req.body : { ...body, idempotencyKey: key });
  });

  // The route the first clients call: the body is the flashcards payload itself.
  router.post('/ai/generate-flashcards', async (req, res) => {
    const { idempotencyKey: _key, userId: _userId, callbackUrl, ...payload } = asObject(req.body);
    const key = idempotencyKeyFrom(req, asObject(req.body));
    await submit(req, res, {
      type: 'flashcards.generate',
      payload,
      ...(key === undefined ? {} : { idempotencyKey: key }),
      ...(callbackUrl === undefined ? {} : { callbackUrl }),
    });
  });

  // Before `/jobs/:id` by habit; it cannot match `/jobs` anyway (an empty id is not a path segment).
  router.get('/jobs', async (req, res) => {
    const query = jobListQuerySchema.safeParse(req.query);
    if (!query.success) throw ApiError.validation(zodIssuesToDetails(query.error, [], '(query)'));
    const page = await listOwnJobs({ index: deps.index, store: deps.store, log: () => requestLog(res, deps.logger) }, principalOf(res), query.data);
    res.set('Cache-Control', 'no-store').json(page);
  });

  const snapshot = async (req: Request, res: Response): Promise<void> => {
    const jobId = parseJobId(req.params.id);
    const job = await deps.store.getSnapshot(jobId, principalOf(res));
    if (!job) throw ApiError.jobNotFound(jobId);
    res.set('Cache-Control', 'no-store').json(job);
  };
  router.get('/jobs/:id', snapshot);
  router.get('/job-status/:id', snapshot);

  router.get('/queue/stats', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await deps.store.getStats());
  });

  return router;
}
