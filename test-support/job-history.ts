import type { LifecycleEvent } from '@jobstream/contracts';
import { jobstreamKeys, readHistory } from '@jobstream/runtime';
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
