import type { JobListQuery, JobListResponse, JobSnapshot } from '@jobstream/contracts';
import type { Logger } from '@jobstream/runtime';
import type { Principal } from '../auth/principal.js';
import type { JobIndex } from './job-index.js';
import { decodeJobListCursor, encodeJobListCursor } from './job-list-cursor.js';
import type { JobStore } from './job-store.js';

export interface ListJobsDeps {
  index: JobIndex;
  store: JobStore;
  /** The request's logger, asked for only when there is something to log. */
  log: () => Logger;
}

/**
 * One page of the caller's own jobs, newest first: ids from the owner's index, snapshots of that
 * page only, read in parallel. Jobs BullMQ removed since (past the retention) are left out and
 * dropped from the index, so a page may hold fewer than `limit` jobs and still have a next one.
 */
export async function listOwnJobs(deps: ListJobsDeps, caller: Principal, query: JobListQuery): Promise<JobListResponse> {
  const after = query.cursor === undefined ? undefined : decodeJobListCursor(query.cursor);
  const owner = caller.userId;
  const page = await deps.index.page(owner, { limit: query.limit, after });
  // Read as the owner, without the caller's roles: this route is "my jobs" for admins too, and an
  // entry that somehow named another user's job would be skipped rather than shown.
  const asOwner: Principal = { userId: owner, roles: new Set() };
  const snapshots = await Promise.all(page.jobIds.map((jobId) => deps.store.getSnapshot(jobId, asOwner)));
  const jobs = snapshots.filter((snapshot): snapshot is JobSnapshot => snapshot !== undefined);
  const gone = page.jobIds.filter((_jobId, i) => snapshots[i] === undefined);
  if (gone.length > 0) {
    // Housekeeping only: the page is right without it, and the next reader tries again.
    await deps.index.forgetGone(owner, gone).catch((err: unknown) => deps.log().warn({ err, userId: owner, count: gone.length }, 'could not drop removed jobs from the job index'));
  }
  return { jobs, nextCursor: page.next === undefined ? null : encodeJobListCursor(page.next) };
}
