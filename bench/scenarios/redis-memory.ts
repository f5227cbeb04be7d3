import { JOB_HISTORY_FIELD } from '@jobstream/runtime';
import { Redis } from 'ioredis';
import type { BenchContext } from '../lib/context.js';
import { startDesign, type Design } from '../lib/designs.js';
import { BenchQueue, QUEUE_NAME } from '../lib/jobs.js';
import { submitAtRate } from '../lib/paced-submit.js';
import { readMemory } from '../lib/redis-info.js';
import { relaySettled } from '../lib/relay-settled.js';
import { MiB, mean, round } from '../lib/stats.js';

export interface RedisMemoryRun {
  design: Design;
  rate: number;
  seconds: number;
  /** Jobs accepted by the api, all finished and retained when memory is read again. */
  jobs: number;
  usedBeforeMiB: number;
  usedAfterMiB: number;
  /** `used_memory` growth / jobs. */
  bytesPerJob: number;
  keysPerJob: number;
  /** MEMORY USAGE of a sample of the jobs' own keys: BullMQ's job hash (with jobstream's packed history in it). */
  jobHashBytes: number;
  /** jobstream: the packed history's bytes (HSTRLEN), and how many of the sampled jobs still have a history stream. */
  historyBytes?: number;
  historyStreams?: number;
  /**
   * Growth of the capped streams (BullMQ's event stream, jobstream's feed and user channels) / jobs:
   * part of `bytesPerJob` while they fill, a fixed cost once they reach their caps.
   */
  cappedBytesPerJob: number;
}

export interface RedisMemoryResult {
  rate: number;
  durationSec: number;
  runs: RedisMemoryRun[];
  /** jobstream / hand-built bytes per job. */
  ratio: number;
  /** The same without the capped streams' growth: per job once they are full. */
  retainedRatio: number;
}

/** Jobs submitted before the first reading: BullMQ's scripts get loaded and each design writes its fixed keys. */
const WARMUP_JOBS = 50;
export const SAMPLE_JOBS = 20;

/**
 * Each design in turn gets jobs through its own `POST /api/jobs` at a steady rate for a fixed time,
 * nobody watching; once every job finished (and jobstream's relay has copied every event), Redis's
 * `used_memory` growth over the run is divided by the jobs. Both keep what they finished: the
 * hand-built design for an hour, jobstream for its default JOB_RETENTION_SECONDS (a day).
 */
export async function runRedisMemory(ctx: BenchContext): Promise<RedisMemoryResult> {
  const runs: RedisMemoryRun[] = [];
  for (const design of ['jobstream', 'handbuilt'] as const) {
    const run = await memoryRun(ctx, design);
    runs.push(run);
    ctx.log(`redismem: ${design}: ${run.jobs} jobs, ${run.bytesPerJob} B/job, ${run.keysPerJob} keys/job (job hash ${run.jobHashBytes} B)`);
    await ctx.redis.flush();
  }
  const perJob = (design: Design, bytes: (run: RedisMemoryRun) => number): number => mean(runs.filter((r) => r.design === design).map(bytes));
  const total = (run: RedisMemoryRun): number => run.bytesPerJob;
  const retained = (run: RedisMemoryRun): number => run.bytesPerJob - run.cappedBytesPerJob;
  return {
    rate: ctx.options.retainRate,
    durationSec: ctx.options.retainDurationSec,
    runs,
    ratio: round(perJob('jobstream', total) / perJob('handbuilt', total), 2),
    retainedRatio: round(perJob('jobstream', retained) / perJob('handbuilt', retained), 2),
  };
}

async function memoryRun(ctx: BenchContext, design: Design): Promise<RedisMemoryRun> {
  const { retainRate: rate, retainDurationSec: seconds } = ctx.options;
  const running = await startDesign(ctx, design, 'redismem');
  const queue = new BenchQueue(ctx.redis.url, running.prefix);
  const redis = new Redis(ctx.redis.url, { maxRetriesPerRequest: 1 });
  try {
    const warmup = await submitAtRate(running.api.url, WARMUP_JOBS, 1);
    await queue.waitFinished(warmup.accepted, 30_000);
    await relaySettled(redis, design, running.prefix);
    const before = await readMemory(ctx.redis.url);
    const cappedBefore = await cappedStreamBytes(redis, running.prefix);

    const submitted = await submitAtRate(running.api.url, rate, seconds);
    if (submitted.rejected > 0) ctx.log(`redismem: ${design}: ${submitted.rejected} submissions refused: ${submitted.errors.slice(0, 3).join('; ')}`);
    await queue.waitFinished(warmup.accepted + submitted.accepted, 60_000);
    await relaySettled(redis, design, running.prefix);
    const after = await readMemory(ctx.redis.url);
    const cappedAfter = await cappedStreamBytes(redis, running.prefix);

    const sample = (await queue.queue.getCompleted(0, SAMPLE_JOBS - 1)).map((j) => j.id as string);
    // SAMPLES 0: every field counted; by default Redis extrapolates a large hash from five of them.
    const usage = async (key: (id: string) => string): Promise<number> =>
      round(mean(await Promise.all(sample.map(async (id) => Number((await redis.memory('USAGE', key(id), 'SAMPLES', 0)) ?? 0)))), 0);
    const base = `${running.prefix}:${QUEUE_NAME}`;
    const jobs = Math.max(1, submitted.accepted);
    return {
      design,
      rate,
      seconds,
      jobs: submitted.accepted,
      usedBeforeMiB: round(before.usedBytes / MiB, 2),
      usedAfterMiB: round(after.usedBytes / MiB, 2),
      bytesPerJob: round((after.usedBytes - before.usedBytes) / jobs, 0),
      keysPerJob: round((after.keys - before.keys) / jobs, 2),
      jobHashBytes: await usage((id) => `${base}:${id}`),
      cappedBytesPerJob: round((cappedAfter - cappedBefore) / jobs, 0),
      ...(design === 'jobstream'
        ? {
            historyBytes: round(mean(await Promise.all(sample.map((id) => redis.hstrlen(`${base}:${id}`, JOB_HISTORY_FIELD)))), 0),
            historyStreams: await redis.exists(...sample.map((id) => `${base}:js:history:${id}`)),
          }
        : {}),
    };
  } finally {
    redis.disconnect();
    await running.stop();
    await queue.close();
  }
}

/** MEMORY USAGE of the queue's capped streams: BullMQ's events and, for jobstream, the feed and every channel. */
async function cappedStreamBytes(redis: Redis, prefix: string): Promise<number> {
  const base = `${prefix}:${QUEUE_NAME}`;
  const keys = [`${base}:events`];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${base}:js:*`, 'COUNT', 1_000, 'TYPE', 'stream');
    cursor = next;
    keys.push(...found.filter((key) => !key.includes(':js:history:')));
  } while (cursor !== '0');
  const sizes = await Promise.all(keys.map(async (key) => Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0)));
  return sizes.reduce((a, b) => a + b, 0);
}
