import { jobIdSchema } from '@jobstream/contracts';
import { ApiError } from '../http/api-error.js';
import type { JobIndexPosition } from './job-index.js';

const POSITION = /^(\d{1,16}):(.+)$/;

/**
 * `GET /api/jobs`'s `nextCursor`: the last job of the page (creation time and id), base64url-encoded
 * so clients treat it as opaque (its format may change; cursors are not meant to be built by hand).
 */
export function encodeJobListCursor(position: JobIndexPosition): string {
  return Buffer.from(`${position.createdAtMs}:${position.jobId}`, 'utf8').toString('base64url');
}

/** The position a page continues after; a 400 INVALID_CURSOR for anything this api did not give out. */
export function decodeJobListCursor(cursor: string): JobIndexPosition {
  const match = POSITION.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const createdAtMs = Number(match?.[1]);
  const jobId = match?.[2] ?? '';
  const position = { createdAtMs, jobId };
  if (!match || !Number.isSafeInteger(createdAtMs) || !jobIdSchema.safeParse(jobId).success || encodeJobListCursor(position) !== cursor) {
    throw new ApiError(400, 'INVALID_CURSOR', 'cursor is not one this api gave out; start again without it', [
      { path: 'cursor', message: 'is not a nextCursor of a previous page' },
    ]);
  }
  return position;
}
