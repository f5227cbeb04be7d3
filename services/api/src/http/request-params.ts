import { eventIdSchema, jobIdSchema } from '@jobstream/contracts';
import type { Request } from 'express';
import { headerOf } from './request-context.js';
import type { StreamRequest } from './stream-routes.js';
import { ApiError } from './api-error.js';

/** A job id from the path or query, or a 400 naming what is wrong with it. */
export function parseJobId(value: unknown): string {
  const parsed = jobIdSchema.safeParse(value);
  if (!parsed.success) {
    throw new ApiError(400, 'INVALID_JOB_ID', `Job id ${parsed.error.issues[0]?.message ?? 'is invalid'}`, [
      { path: 'jobId', message: parsed.error.issues[0]?.message ?? 'invalid' },
    ]);
  }
  return parsed.data;
}

/** The client's cursor: the `Last-Event-ID` header (browser reconnects) or `lastEventId` (first connect). */
export function parseLastEventId({ req, query: params }: StreamRequest): string | undefined {
  const header = headerOf(req.headers, 'last-event-id');
  const query = params.lastEventId;
  const value = header !== undefined && header !== '' ? header : query;
  if (value === undefined || value === '') return undefined;
  const parsed = eventIdSchema.safeParse(value);
  if (!parsed.success) {
    throw new ApiError(400, 'INVALID_LAST_EVENT_ID', `Last-Event-ID ${parsed.error.issues[0]?.message ?? 'is invalid'}`, [
      { path: header ? 'Last-Event-ID' : 'lastEventId', message: parsed.error.issues[0]?.message ?? 'invalid' },
    ]);
  }
  return parsed.data;
}

/** An idempotency key from the body, or from the `Idempotency-Key` header. */
export function idempotencyKeyFrom(req: Request, body: Record<string, unknown>): unknown {
  return body.idempotencyKey ?? req.get('idempotency-key');
}
