import type { LifecycleEvent } from '@jobstream/contracts';
import { JOB_HISTORY_FIELD, jobstreamKeys, readHistory, type JobstreamKeys } from '@jobstream/runtime';
import { Redis } from 'ioredis';

/**
 * Every stored event of each job, read straight from Redis with a fresh connection (not through
 * an api): the reference that what clients received is compared against.
 */
export async function readJobHistories(
  redisUrl: string,
  env: { QUEUE_PREFIX: string; QUEUE_NAME?: string },
  jobIds: string[],
): Promise<Map<string, LifecycleEvent[]>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX, name: env.QUEUE_NAME ?? 'jobs' });
  try {
    const out = new Map<string, LifecycleEvent[]>();
    for (const jobId of jobIds) out.set(jobId, (await readHistory(redis, keys, jobId)).events);
    return out;
  } finally {
    redis.disconnect();
  }
}

/**
 * Trims a job's history to its newest `maxLen` entries, as XTRIM would, wherever it is kept (a
 * finished job's is packed into its hash, see history-lua.ts): what a history past
 * JOB_HISTORY_MAX_LEN looks like to its readers.
 */
export async function trimJobHistory(redis: Redis, keys: JobstreamKeys, jobId: string, maxLen: number): Promise<void> {
  const lua = `
local raw = redis.call('HGET', KEYS[2], ARGV[2])
if raw then
  local packed = cjson.decode(raw)
  local keep, e = {}, packed.e
  for i = math.max(1, #e - tonumber(ARGV[1]) + 1), #e do keep[#keep + 1] = e[i] end
  packed.e = keep
  redis.call('HSET', KEYS[2], ARGV[2], cjson.encode(packed))
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[1]) end
return 1
`;
  await redis.eval(lua, 2, keys.history(jobId), keys.job(jobId), maxLen, JOB_HISTORY_FIELD);
}
