import type { QueueBreakdownQuery, QueueBreakdownResponse } from '@jobstream/contracts';
import { LUA_JOB_OWNER, registerScript, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';

/** BullMQ's list of waiting jobs and its set of failed ones for the api's queue. */
export interface QueueListKeys {
  wait: string;
  failed: string;
}

/**
 * Lua: for each job hash in KEYS, its owner (or false), its type and its failure reason (or false).
 * The owner is read by the anchored match of `job_owner`, so a large payload is never copied out.
 */
const DESCRIBE_SCRIPT = `${LUA_JOB_OWNER}
local out = {}
for i, key in ipairs(KEYS) do
  local owner, name = job_owner(key)
  local reason = redis.call('HGET', key, 'failedReason')
  out[i] = { owner or false, name or redis.call('HGET', key, 'name') or false, reason or false }
end
return out
`;

type ScriptClient = RedisClient & { jobstreamDescribeJobs(numberOfKeys: number, ...keys: string[]): Promise<[string | null, string | null, string | null][]> };

const defineDescribeJobs = registerScript('jobstreamDescribeJobs', { lua: DESCRIBE_SCRIPT });

const UNKNOWN = '(unknown)';

/** The first line of an error, at most 200 characters: errors that differ only in their details beyond that count as one. */
const errorKey = (reason: string): string => (reason.split('\n', 1)[0] ?? '').slice(0, 200);

function counted<K extends string>(values: string[], key: K): ({ [P in K]: string } & { jobs: number })[] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([value, jobs]) => ({ [key]: value, jobs }) as { [P in K]: string } & { jobs: number });
}

/** Adds to each error the first (newest) failed job with it; `ids` are newest first, as `rows`. */
function withNewestJob(errors: { error: string; jobs: number }[], rows: [string | null, string | null, string | null][], ids: string[]): QueueBreakdownResponse['byError'] {
  const newest = new Map<string, string>();
  rows.forEach(([, , reason], i) => {
    const key = errorKey(reason || UNKNOWN);
    if (!newest.has(key)) newest.set(key, ids[i] ?? '');
  });
  return errors.map((row) => ({ ...row, newestJobId: newest.get(row.error) ?? '' }));
}

/**
 * Who submitted the oldest `limit` waiting jobs or the newest `limit` failed ones, their types and
 * (failed) their errors, most jobs first: where a backlog or a failure wave comes from.
 */
export async function readQueueBreakdown(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'job'>,
  lists: QueueListKeys,
  query: QueueBreakdownQuery,
): Promise<QueueBreakdownResponse> {
  // BullMQ pushes new jobs at the head of `wait`: the oldest are at its end.
  const ids = query.state === 'waiting' ? (await redis.lrange(lists.wait, -query.limit, -1)).reverse() : await redis.zrevrange(lists.failed, 0, query.limit - 1);
  defineDescribeJobs(redis);
  const rows = ids.length === 0 ? [] : await (redis as ScriptClient).jobstreamDescribeJobs(ids.length, ...ids.map((id) => keys.job(id)));
  return {
    state: query.state,
    jobs: rows.length,
    byOwner: counted(rows.map(([owner]) => owner || UNKNOWN), 'owner'),
    byType: counted(rows.map(([, type]) => type || UNKNOWN), 'type'),
    byError: query.state === 'failed' ? withNewestJob(counted(rows.map(([, , reason]) => errorKey(reason || UNKNOWN)), 'error'), rows, ids) : [],
  };
}
