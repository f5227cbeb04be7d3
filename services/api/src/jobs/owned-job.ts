import type { RedisClient } from '@jobstream/runtime';

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

/**
 * KEYS[1] the job hash; ARGV[1] the JSON the job's `data` must start with to belong to the viewer
 * (`{"owner":"<id>",`, as the api writes it), or '' for a viewer who may see every job.
 * Returns nil for a key that is not a job hash or a job of someone else, else the snapshot fields
 * (BullMQ 5+ keeps the attempts in `atm`; older jobs in `attemptsMade`).
 */
const READ_OWNED_JOB = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
if ARGV[1] ~= '' then
  local data = redis.call('HGET', KEYS[1], 'data')
  if not data or string.sub(data, 1, #ARGV[1]) ~= ARGV[1] then return false end
end
local f = redis.call('HMGET', KEYS[1], 'name', 'progress', 'timestamp', 'atm', 'attemptsMade', 'failedReason', 'processedOn', 'finishedOn', 'returnvalue')
if not f[1] then return false end
return { f[1], f[2], f[3], f[4] or f[5], f[6], f[7], f[8], f[9] }
`;

type ScriptClient = RedisClient & { jobstreamReadOwnedJob(key: string, ownerPrefix: string): Promise<(string | null)[] | null> };

/** The start of a job's stored `data` when `owner` submitted it (see StoredJobData: `owner` comes first). */
export const ownerPrefix = (owner: string): string => `{"owner":${JSON.stringify(owner)},`;

/**
 * Reads a job's snapshot fields in one round trip, checking in Redis that it is a job at all and,
 * when `owner` is given, that it belongs to them. Undefined in every other case, alike.
 */
export async function readOwnedJob(redis: RedisClient, jobKey: string, owner: string | undefined): Promise<OwnedJobFields | undefined> {
  if (!('jobstreamReadOwnedJob' in redis)) redis.defineCommand('jobstreamReadOwnedJob', { numberOfKeys: 1, lua: READ_OWNED_JOB });
  const row = await (redis as ScriptClient).jobstreamReadOwnedJob(jobKey, owner === undefined ? '' : ownerPrefix(owner));
  if (!row) return undefined;
  return Object.fromEntries(FIELD_NAMES.map((name, i) => [name, row[i] ?? null])) as unknown as OwnedJobFields;
}
