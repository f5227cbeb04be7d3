import { notificationIdSchema } from '@jobstream/contracts';
import { ApiError } from '../http/api-error.js';

/**
 * The inbox's `nextCursor`: the last id of the page, base64url-encoded so clients treat it as
 * opaque (its format may change; ids are not meant to be built by hand).
 */
export function encodeInboxCursor(afterId: string): string {
  return Buffer.from(afterId, 'utf8').toString('base64url');
}

/** The id a page continues after; a 400 INVALID_CURSOR for anything this api did not give out. */
export function decodeInboxCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!notificationIdSchema.safeParse(id).success || encodeInboxCursor(id) !== cursor) {
    throw new ApiError(400, 'INVALID_CURSOR', 'cursor is not one this api gave out; start again without it', [
      { path: 'cursor', message: 'is not a nextCursor of a previous page' },
    ]);
  }
  return id;
}
