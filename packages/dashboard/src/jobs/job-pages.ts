import type { JobListResponse, JobstreamClient } from '@jobstream/client';

/** One page of `GET /api/jobs`: `cursor` is the previous page's `nextCursor` (none for the first). */
export type JobPageLoader = (cursor: string | undefined) => Promise<JobListResponse>;

/** Pages of the signed-in user's jobs, newest first, `limit` at a time. */
export function jobPageLoader(client: JobstreamClient, limit: number): JobPageLoader {
  return (cursor) => client.listJobs({ limit, ...(cursor !== undefined ? { cursor } : {}) });
}
