import {
  jobSubmissionSchema,
  jobTypes,
  zodIssuesToDetails,
  type EnqueueResponse,
  type JobState,
  type JobSubmission,
} from '@jobstream/contracts';
import { inSpan, jobDataWithOwner } from '@jobstream/runtime';
import { Job, type Queue } from 'bullmq';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';

/**
 * What BullMQ stores as a job's data. `owner` comes first in the JSON (`jobDataWithOwner` sees to
 * it): the relay's Lua script and the api's ownership check read it with an anchored match instead
 * of decoding a payload of up to BODY_LIMIT_BYTES.
 */
export interface StoredJobData {
  /** The user who submitted the job; only they (and admins) can see it. */
  owner: string;
  payload: Record<string, unknown>;
  /**
   * Hash of type and payload, to tell a retried submission from a different one under the same
   * idempotency key; only jobs submitted with a key keep it (about 80 bytes a job otherwise).
   */
  requestHash?: string;
}

/**
 * A UUID (v5 layout) derived from the owner and the key with the deployment's secret, so that the
 * same key always names the same job for one user, two users' keys never collide, and nobody
 * without the secret can compute another user's job id from a key they guess.
 */
export function jobIdForIdempotencyKey(secret: string, owner: string, key: string): string {
  const hex = createHmac('sha256', secret).update(`jobstream:idempotency:${JSON.stringify([owner, key])}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

function requestHash(type: string, payload: unknown): string {
  return createHash('sha256').update(JSON.stringify([type, payload])).digest('hex');
}

/** Validates a submission: the envelope, then the payload against its type's schema. */
export function parseSubmission(body: unknown): JobSubmission & { payload: Record<string, unknown> } {
  const envelope = jobSubmissionSchema.safeParse(body);
  if (!envelope.success) throw ApiError.validation(zodIssuesToDetails(envelope.error));
  const payload = jobTypes[envelope.data.type].payload.safeParse(envelope.data.payload);
  if (!payload.success) throw ApiError.validation(zodIssuesToDetails(payload.error, ['payload']));
  return { ...envelope.data, payload: payload.data as Record<string, unknown> };
}

export interface EnqueueResult {
  response: EnqueueResponse;
  /** True when an earlier submission with the same idempotency key is answered again. */
  replayed: boolean;
  /** When the job was created (ms since epoch): the earlier one's time for a replay. */
  createdAtMs: number;
}

/** Enqueues a validated submission; the same idempotency key always yields the same job. */
export async function enqueueJob(
  queue: Queue,
  submission: JobSubmission,
  options: {
    retentionSeconds: number;
    basePath: string;
    owner: string;
    jobIdSecret: string;
    /** Called for a new job only (not a replay), before it is added: may refuse it; returns how to undo itself if the add fails. */
    reserve?: (jobId: string) => Promise<() => Promise<void>> | undefined;
    /**
     * Called before a new job is added under an id an idempotency key derived: drops the history a
     * job of that id left behind (one cancelled before it ran is removed while its history is kept
     * to the retention), so the new job's stream does not replay the old one's end.
     */
    forgetHistory?: (jobId: string) => Promise<unknown>;
  },
): Promise<EnqueueResult> {
  const definition = jobTypes[submission.type];
  const jobId = submission.idempotencyKey ? jobIdForIdempotencyKey(options.jobIdSecret, options.owner, submission.idempotencyKey) : randomUUID();
  const links = { self: `${options.basePath}/jobs/${jobId}`, events: `${options.basePath}/jobs/${jobId}/events` };

  const hash = submission.idempotencyKey ? requestHash(submission.type, submission.payload) : undefined;
  if (submission.idempotencyKey) {
    const existing = await Job.fromId<StoredJobData>(queue, jobId);
    if (existing) {
      if (existing.data.requestHash !== hash || existing.data.owner !== options.owner) {
        throw new ApiError(
          409,
          'IDEMPOTENCY_KEY_REUSED',
          'This idempotencyKey was already used for a different submission',
        );
      }
      const state = (await existing.getState()) as JobState;
      return { response: { jobId, type: existing.name, state, links }, replayed: true, createdAtMs: existing.timestamp };
    }
  }

  const data: StoredJobData = jobDataWithOwner(options.owner, hash === undefined ? { payload: submission.payload } : { requestHash: hash, payload: submission.payload });
  if (submission.idempotencyKey) await options.forgetHistory?.(jobId);
  const undoReserve = await options.reserve?.(jobId);
  // A concurrent submission with the same key is folded into this one by BullMQ (same job id).
  const attributes = { 'messaging.system': 'bullmq', 'messaging.destination.name': queue.name, 'jobstream.job.id': jobId, 'jobstream.job.type': submission.type };
  const job = await inSpan('jobstream.job.enqueue', { kind: 'producer', attributes }, (span) =>
    queue.add(submission.type, data, {
      jobId,
      attempts: definition.retry.attempts,
      backoff: { type: 'exponential', delay: definition.retry.backoffMs },
      removeOnComplete: { age: options.retentionSeconds },
      removeOnFail: { age: options.retentionSeconds },
      // The job carries this span to the worker as BullMQ's own telemetry field (`tm` in its options).
      ...(span ? { telemetry: { metadata: span.traceparent } } : {}),
    }),
  ).catch(async (err: unknown) => {
    // Not counted then; if only the answer was lost and the job exists, it runs uncounted: one too few, never a place held forever.
    await undoReserve?.().catch(() => undefined);
    throw err;
  });
  return { response: { jobId, type: submission.type, state: 'waiting', links }, replayed: false, createdAtMs: job.timestamp };
}
