import { jobStateSchema, type JobState } from '@jobstream/contracts';
import {
  JOB_CANCELLED_FIELD,
  LUA_JOB_HISTORY,
  LUA_STREAM_ID_AFTER,
  cancelledByOf,
  historyReadOf,
  jobOwnerPrefix,
  registerScript,
  type CancelledBy,
  type HistoryRead,
  type RedisClient,
} from '@jobstream/runtime';

/** The fields of a BullMQ job hash a snapshot needs (never `data`: the payload stays in Redis). */
export interface OwnedJobFields {
  name: string | null;
  progress: string | null;
  timestamp: string | null;
  attemptsMade: string | null;
  failedReason: string | null;
  processedOn: string | null;
  finishedOn: string | null;
  returnvalue: string | null;
}

const FIELD_NAMES = ['name', 'progress', 'timestamp', 'attemptsMade', 'failedReason', 'processedOn', 'finishedOn', 'returnvalue'] as const;

/** BullMQ's keys of the queue's states (`queue.keys`), where the script looks a job up. */
export interface QueueStateKeys {
  completed: string;
  failed: string;
  delayed: string;
  prioritized: string;
  'waiting-children': string;
  active: string;
  wait: string;
  paused: string;
}

/** The history stream to read along with the job: from after `afterId` (or its start), at most `count` entries. */
export interface HistoryPageRequest {
  key: string;
  afterId?: string | undefined;
  count: number;
}

/** A job's snapshot fields and state, and, when asked for, a page of its history with its bounds. */
export interface OwnedJob {
  fields: OwnedJobFields;
  /** As BullMQ's `getState` answers it. */
  state: JobState;
  history?: HistoryRead;
  /** Who cancelled it while it ran (a failed job the worker stopped). */
  cancelledBy?: CancelledBy;
}

const STATES: ReadonlySet<string> = new Set(jobStateSchema.options);

/**
 * KEYS: 1 the job hash; 2-9 the queue's completed, failed, delayed, prioritized, waiting-children,
 * active, wait and paused keys; 10 the job's history stream (a finished job's history is in its
 * hash: see history-lua.ts).
 * ARGV: 1 the JSON the job's `data` must start with to belong to the viewer (`{"owner":"<id>",`, as
 * the api writes it), or '' for a viewer who may see every job; 2 the job id; 3 where the history
 * page starts (`-` or `(<id>`), '' for no history; 4 the page size.
 * Returns nil for a key that is not a job hash or a job of someone else, else the snapshot fields
 * (BullMQ 5+ keeps the attempts in `atm`; older jobs in `attemptsMade`), the state, the history
 * page with the history's bounds as an XINFO STREAM reply (false: no history), and who cancelled the job (false: nobody).
 *
 * The state is BullMQ's `getState` answer without its O(backlog) scan of the wait list: BullMQ moves
 * a job between its states in single scripts and sets `finishedOn` in the one that puts it in
 * `completed` or `failed`, so a job whose hash has no `finishedOn` and that is in no other state is
 * waiting. Sorted sets cost O(log n) and `active` holds no more than the workers' concurrency; the
 * wait lists are scanned only for a finished job that is in neither finished set (moved back by hand).
 */
const READ_OWNED_JOB = `${LUA_STREAM_ID_AFTER}${LUA_JOB_HISTORY}
-- pcall: a key that is not a hash (WRONGTYPE) is no job, like a missing one. Ownership first, so
-- nothing else of another user's job (its result) is even read.
if ARGV[1] ~= '' then
  local data = redis.pcall('HGET', KEYS[1], 'data')
  if type(data) ~= 'string' or string.sub(data, 1, #ARGV[1]) ~= ARGV[1] then return false end
end
local f = redis.pcall('HMGET', KEYS[1], 'name', 'progress', 'timestamp', 'atm', 'attemptsMade', 'failedReason', 'processedOn', 'finishedOn', 'returnvalue', '${JOB_CANCELLED_FIELD}')
if f.err or not f[1] then return false end
local id = ARGV[2]
local finished = f[8]
local state
if finished and redis.call('ZSCORE', KEYS[2], id) then state = 'completed'
elseif finished and redis.call('ZSCORE', KEYS[3], id) then state = 'failed'
elseif redis.call('LPOS', KEYS[7], id) then state = 'active'
elseif redis.call('ZSCORE', KEYS[4], id) then state = 'delayed'
elseif redis.call('ZSCORE', KEYS[5], id) then state = 'prioritized'
elseif redis.call('ZSCORE', KEYS[6], id) then state = 'waiting-children'
elseif not finished or redis.call('LPOS', KEYS[8], id) or redis.call('LPOS', KEYS[9], id) then state = 'waiting'
else state = 'unknown' end
local history = false
if ARGV[3] ~= '' then
  -- The page, and the bounds (and newest entry) for the coverage rule: false when there is no history.
  local packed = history_packed(KEYS[1])
  history = { history_range(KEYS[10], packed, ARGV[3], '+', tonumber(ARGV[4]), false), history_info(KEYS[10], packed) }
end
return { f[1], f[2], f[3], f[4] or f[5], f[6], f[7], f[8], f[9], state, history, f[10] or false }
`;

type RawEntry = [id: string, fields: string[]];
type Row = [...(string | null)[]];
type ScriptClient = RedisClient & { jobstreamReadOwnedJob(...args: string[]): Promise<Row | null> };

const defineReadOwnedJob = registerScript('jobstreamReadOwnedJob', { numberOfKeys: 10, lua: READ_OWNED_JOB });

/**
 * Reads a job's snapshot fields and state in one round trip, checking in Redis that it is a job at
 * all and, when `owner` is given, that it belongs to them; with `history`, a page of the job's history
 * too, in the same step (so the page and the state describe one moment). Undefined in every other
 * case, alike.
 */
export async function readOwnedJob(
  redis: RedisClient,
  keys: { job: string; states: QueueStateKeys },
  jobId: string,
  owner: string | undefined,
  history?: HistoryPageRequest,
): Promise<OwnedJob | undefined> {
  defineReadOwnedJob(redis);
  const { states } = keys;
  const row = await (redis as ScriptClient).jobstreamReadOwnedJob(
    keys.job,
    states.completed,
    states.failed,
    states.delayed,
    states.prioritized,
    states['waiting-children'],
    states.active,
    states.wait,
    states.paused,
    // Without a history the key is never touched; the job's own key keeps every key in one slot.
    history?.key ?? keys.job,
    owner === undefined ? '' : jobOwnerPrefix(owner),
    jobId,
    history === undefined ? '' : history.afterId ? `(${history.afterId}` : '-',
    String(history?.count ?? 0),
  );
  if (!row) return undefined;
  const fields = Object.fromEntries(FIELD_NAMES.map((name, i) => [name, row[i] ?? null])) as unknown as OwnedJobFields;
  const state = String(row[8]);
  const job: OwnedJob = { fields, state: STATES.has(state) ? (state as JobState) : 'unknown' };
  const raw = row[9] as unknown as [RawEntry[], unknown] | null;
  if (raw) job.history = historyReadOf(jobId, raw[0], raw[1]);
  const cancelledBy = cancelledByOf(row[10]);
  if (cancelledBy) job.cancelledBy = cancelledBy;
  return job;
}
