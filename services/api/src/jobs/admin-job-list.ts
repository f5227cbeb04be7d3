import type { AdminJobListQuery, AdminJobListResponse, AdminJobRow, AdminJobState } from '@jobstream/contracts';
import type { RedisClient } from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { decodeJobListCursor, encodeJobListCursor } from './job-list-cursor.js';
import { readJobRows, type JobRow } from './job-rows.js';
import { pageSortedSet, type JobIndexPage, type JobIndexPosition } from './sorted-set-page.js';

export interface AdminJobListDeps {
  queue: Queue;
  redis: RedisClient;
  job(jobId: string): string;
}

/** BullMQ keeps these states in lists, newest at the head; the others in sorted sets. */
const LIST_STATES: Partial<Record<AdminJobState, string>> = { waiting: 'wait', active: 'active' };

/**
 * One page of a list state, newest first. The next page continues after the cursor's job wherever
 * it is now (LPOS), so jobs added or taken meanwhile shift nothing; when that job has left the
 * list, so has every job queued before it (workers take the oldest first), and the listing ends.
 * LPOS scans the list: an operator's page of a long backlog costs O(backlog), never a user's request.
 */
async function pageList(redis: RedisClient, key: string, limit: number, afterJobId: string | undefined): Promise<JobIndexPage> {
  let start = 0;
  if (afterJobId !== undefined) {
    const at = await redis.lpos(key, afterJobId);
    if (at === null) return { jobIds: [], entries: [], next: undefined };
    start = at + 1;
  }
  const ids = await redis.lrange(key, start, start + limit);
  const jobIds = ids.slice(0, limit);
  const last = jobIds.at(-1);
  const entries = jobIds.map((jobId) => ({ createdAtMs: 0, jobId }));
  return { jobIds, entries, next: ids.length > limit && last !== undefined ? { createdAtMs: 0, jobId: last } : undefined };
}

/** Failed jobs looked at per request for `cancelled`: the work of one page is bounded, its length is not. */
const CANCELLED_SCAN = 1_000;

/**
 * One page of the cancelled jobs: the failed set read newest first, keeping the jobs a cancel
 * stopped, until `limit` are found or CANCELLED_SCAN were looked at. A page may then hold fewer
 * than `limit` (none, even) and still have a next one, which continues after the last job looked at.
 */
async function pageCancelled(deps: AdminJobListDeps, limit: number, after: JobIndexPosition | undefined): Promise<{ rows: JobRow[]; next: JobIndexPosition | undefined }> {
  const rows: JobRow[] = [];
  let position = after;
  let scanned = 0;
  while (scanned < CANCELLED_SCAN) {
    const page = await pageSortedSet(deps.redis, deps.queue.toKey('failed'), { limit: Math.min(limit * 4, CANCELLED_SCAN - scanned), after: position });
    const read = await readJobRows(deps.redis, deps.job, page.jobIds);
    for (const [i, entry] of page.entries.entries()) {
      const row = read[i];
      if (row?.cancelledBy) rows.push(row);
      position = entry;
      if (rows.length === limit) return { rows, next: i < page.entries.length - 1 || page.next ? entry : undefined };
    }
    scanned += page.entries.length;
    if (!page.next) return { rows, next: undefined };
  }
  return { rows, next: position };
}

const iso = (ms: number | undefined): string | undefined => (ms ? new Date(ms).toISOString() : undefined);

function toAdminRow(row: JobRow, state: AdminJobState): AdminJobRow {
  const out: AdminJobRow = {
    jobId: row.jobId,
    type: row.type,
    owner: row.owner,
    state,
    createdAt: iso(row.createdAtMs) ?? new Date(0).toISOString(),
    attemptsMade: row.attemptsMade,
  };
  const startedAt = iso(row.startedAtMs);
  const finishedAt = iso(row.finishedAtMs);
  if (startedAt) out.startedAt = startedAt;
  if (finishedAt) out.finishedAt = finishedAt;
  if (row.failedReason) out.failedReason = row.failedReason;
  if (row.cancelledBy) out.cancelledBy = row.cancelledBy;
  return out;
}

/**
 * Every user's jobs in one state, newest first, a page at a time (`GET /api/admin/jobs`): ids from
 * BullMQ's own key of the state, then their rows in one script. A job that moved on between the two
 * reads is still shown (with the state it was listed in); one removed meanwhile is left out.
 */
export async function listJobsByState(deps: AdminJobListDeps, query: AdminJobListQuery): Promise<AdminJobListResponse> {
  const after = query.cursor === undefined ? undefined : decodeJobListCursor(query.cursor);
  if (query.state === 'cancelled') {
    const { rows, next } = await pageCancelled(deps, query.limit, after);
    return { jobs: rows.map((row) => toAdminRow(row, 'cancelled')), nextCursor: next === undefined ? null : encodeJobListCursor(next) };
  }
  const listKey = LIST_STATES[query.state];
  const page = listKey
    ? await pageList(deps.redis, deps.queue.toKey(listKey), query.limit, after?.jobId)
    : await pageSortedSet(deps.redis, deps.queue.toKey(query.state), { limit: query.limit, after });
  const rows = await readJobRows(deps.redis, deps.job, page.jobIds);
  const jobs = rows.filter((row): row is JobRow => row !== undefined).map((row) => toAdminRow(row, query.state));
  return { jobs, nextCursor: page.next === undefined ? null : encodeJobListCursor(page.next) };
}
