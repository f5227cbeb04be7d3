/**
 * How a job's owner is stored: as the first member of the JSON BullMQ keeps as the job's `data`,
 * written by `jobDataWithOwner` and found by an anchored match (`jobOwnerPrefix`, `LUA_JOB_OWNER`).
 *
 * Why there: the owner must be in Redis from the moment BullMQ writes the job's first event, and
 * `queue.add` writes the job hash and that event in one script of its own, so only `data` (or the
 * job id) can carry it atomically. A separate key written before the add would cost every retained
 * job about 170 bytes more (measured with MEMORY USAGE) and one more write per submission, and the
 * per-user sets the api keeps map users to jobs, not jobs to users. Reading the owner back costs
 * copying `data` inside Redis, so the relay does it once per job and remembers the answer.
 */

/** The start of a job's stored `data` when `owner` submitted it. */
export const jobOwnerPrefix = (owner: string): string => `{"owner":${JSON.stringify(owner)},`;

/**
 * The job data to store for `owner`: `owner` first, whatever `rest` holds, so that the stored JSON
 * starts with `jobOwnerPrefix(owner)`. `rest` must hold at least one member.
 */
export function jobDataWithOwner<T extends Record<string, unknown>>(owner: string, rest: T): { owner: string } & Omit<T, 'owner'> {
  const data: Record<string, unknown> = { owner };
  for (const [name, value] of Object.entries(rest)) if (name !== 'owner') data[name] = value;
  return data as { owner: string } & Omit<T, 'owner'>;
}

/**
 * Lua: `job_owner(jobKey)` returns the owner and the job type (BullMQ's `name`) of a job hash, or
 * nil when the hash is gone or its `data` does not start with an owner. The match is anchored,
 * so the cost does not depend on what follows in the payload.
 */
export const LUA_JOB_OWNER = `
local function job_owner(jobKey)
  local fields = redis.call('HMGET', jobKey, 'data', 'name')
  if not fields[1] then return nil end
  local raw = string.match(fields[1], '^{"owner":"(.-)","')
  if not raw then return nil end
  local ok, owner = pcall(cjson.decode, '"' .. raw .. '"')
  if not ok or type(owner) ~= 'string' or owner == '' then return nil end
  return owner, fields[2] or ''
end
`;
