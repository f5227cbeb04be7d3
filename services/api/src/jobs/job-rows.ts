import { JOB_CANCELLED_FIELD, LUA_JOB_OWNER, cancelledByOf, registerScript, type CancelledBy, type RedisClient } from '@jobstream/runtime';

/** What operators see of a job, read from its hash without its payload or result. */
export interface JobRow {
  jobId: string;
  /** BullMQ's job name: the job type. */
  type: string;
  /** Null for a job whose data names no owner. */
  owner: string | null;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  attemptsMade: number;
  failedReason?: string;
  cancelledBy?: CancelledBy;
}

/**
 * KEYS: job hashes. For each, false when it is no job hash (gone, or a key of another type), else
 * { owner or '', name, timestamp, processedOn, finishedOn, attempts, failedReason, cancelledBy },
 * '' for a field that is not set. The owner is matched at the start of `data` inside Redis, so a
 * page of rows costs no payload transfer.
 */
const READ_JOB_ROWS = `
${LUA_JOB_OWNER}
local rows = {}
for i, key in ipairs(KEYS) do
  local f = redis.pcall('HMGET', key, 'name', 'timestamp', 'processedOn', 'finishedOn', 'atm', 'attemptsMade', 'failedReason', '${JOB_CANCELLED_FIELD}')
  if f.err or not f[1] then
    rows[i] = false
  else
    local owner = job_owner(key)
    rows[i] = { owner or '', f[1], f[2] or '', f[3] or '', f[4] or '', f[5] or f[6] or '', f[7] or '', f[8] or '' }
  end
end
return rows
`;

type ScriptClient = RedisClient & { jobstreamReadJobRows(...args: string[]): Promise<(string[] | null)[]> };
const defineReadJobRows = registerScript('jobstreamReadJobRows', { lua: READ_JOB_ROWS });

const int = (raw: string | undefined): number | undefined => {
  const value = Number.parseInt(raw ?? '', 10);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
};

/** The rows of `jobIds` in one round trip, in their order; undefined for an id that names no job. */
export async function readJobRows(redis: RedisClient, jobKey: (jobId: string) => string, jobIds: readonly string[]): Promise<(JobRow | undefined)[]> {
  if (jobIds.length === 0) return [];
  defineReadJobRows(redis);
  const raw = await (redis as ScriptClient).jobstreamReadJobRows(String(jobIds.length), ...jobIds.map(jobKey));
  return jobIds.map((jobId, i) => {
    const fields = raw[i];
    if (!fields) return undefined;
    const [owner, name, timestamp, processedOn, finishedOn, attempts, failedReason, cancelledBy] = fields;
    const row: JobRow = { jobId, type: name ?? 'unknown', owner: owner ? owner : null, createdAtMs: int(timestamp) ?? 0, attemptsMade: int(attempts) ?? 0 };
    const startedAtMs = int(processedOn);
    const finishedAtMs = int(finishedOn);
    const by = cancelledByOf(cancelledBy);
    if (startedAtMs) row.startedAtMs = startedAtMs;
    if (finishedAtMs) row.finishedAtMs = finishedAtMs;
    if (failedReason) row.failedReason = failedReason;
    if (by) row.cancelledBy = by;
    return row;
  });
}
