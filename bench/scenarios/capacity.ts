import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../lib/context.js';
import { BenchQueue, benchPrefix } from '../lib/jobs.js';
import { startApi, startWorker } from '../lib/services.js';
import { KiB, MiB, round } from '../lib/stats.js';

export interface CapacityResult {
  /** Streams asked for. */
  requested: number;
  /** Streams opened (fewer when the api's open-file limit does not allow `requested`). */
  streams: number;
  limitedBy?: string;
  connected: number;
  failed: number;
  rssBaseMiB: number;
  rssMiB: number;
  heapBaseMiB: number;
  heapMiB: number;
  rssPerStreamKB: number;
  heapPerStreamKB: number;
  /** Node's `external` memory (buffers outside the heap) per stream. */
  externalPerStreamKB: number;
  apiFds: number;
  apiFdLimit: number;
  /** Streams that received their job's `completed` after the jobs ran. */
  terminalsDelivered: number;
  allDelivered: boolean;
  /** From resuming the queue until the last stream got `completed`. */
  drainSec: number;
  openSec: number;
}

/** Descriptors the api needs besides its streams (stdio, Redis, listener, epoll, IPC, libuv). */
const FD_RESERVE = 100;

/**
 * One api process per level, so each level starts from the same baseline. The queue is paused,
 * N jobs are added and N streams opened (one per job) and left idle; memory is read after two full
 * GCs before and after. Then the queue resumes and every stream must receive its `completed`.
 */
export async function runCapacity(ctx: BenchContext): Promise<CapacityResult[]> {
  const results: CapacityResult[] = [];
  const prefix = benchPrefix('capacity');
  const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix };
  const queue = new BenchQueue(ctx.redis.url, prefix);
  const worker = await startWorker({ runDir: ctx.runDir, env: { ...env, WORKER_CONCURRENCY: '200' }, tag: 'capacity' });
  ctx.fdLimits.worker = (await worker.probe()).fdLimit;
  try {
    for (const requested of ctx.options.streams) {
      const api = await startApi({ runDir: ctx.runDir, env, tag: `capacity-${requested}`, nodeFlags: ctx.apiNodeFlags() });
      try {
        const first = await api.probe();
        ctx.fdLimits.api = first.fdLimit;
        const room = first.fdLimit - FD_RESERVE;
        const streams = Math.min(requested, room);
        const limitedBy = streams < requested ? `api open-file limit ${first.fdLimit}` : undefined;
        ctx.log(`capacity: ${streams} streams${limitedBy ? ` (not ${requested}: ${limitedBy})` : ''}`);

        await queue.queue.pause();
        const warmup = await queue.add(Array.from({ length: 50 }, () => ({ durationMs: 0 })));
        const jobs = await queue.add(Array.from({ length: streams }, () => ({ durationMs: 0 })));

        // Warm up the code paths (JIT, Express, ioredis buffers) so that they are not counted per stream.
        await ctx.clients.open(api.url, warmup.map((j) => j.id as string));
        await ctx.clients.reset();
        await sleep(500);
        const base = await api.probe(true);

        const openStarted = Date.now();
        const opened = await ctx.clients.open(api.url, jobs.map((j) => j.id as string), 100);
        const openSec = (Date.now() - openStarted) / 1000;
        await sleep(1_000);
        const loaded = await api.probe(true);
        const n = Math.max(1, opened.streamsConnected);
        ctx.log(
          `capacity: ${opened.streamsConnected} connected, ${opened.streamsFailed} failed in ${round(openSec)} s; ` +
            `rss ${round((loaded.memory.rss - base.memory.rss) / n / KiB)} KB/stream`,
        );
        if (opened.errors.length > 0) ctx.log(`capacity: client errors: ${opened.errors.slice(0, 3).join('; ')}`);

        const resumed = Date.now();
        await queue.queue.resume();
        const deadline = resumed + Math.max(60_000, streams * 20);
        let stats = await ctx.clients.stats();
        while (stats.streamsOpen > 0 && Date.now() < deadline) {
          await sleep(200);
          stats = await ctx.clients.stats();
        }
        const drainSec = (Date.now() - resumed) / 1000;
        results.push({
          requested,
          streams,
          ...(limitedBy ? { limitedBy } : {}),
          connected: opened.streamsConnected,
          failed: opened.streamsFailed,
          rssBaseMiB: round(base.memory.rss / MiB),
          rssMiB: round(loaded.memory.rss / MiB),
          heapBaseMiB: round(base.memory.heapUsed / MiB),
          heapMiB: round(loaded.memory.heapUsed / MiB),
          rssPerStreamKB: round((loaded.memory.rss - base.memory.rss) / n / KiB, 2),
          heapPerStreamKB: round((loaded.memory.heapUsed - base.memory.heapUsed) / n / KiB, 2),
          externalPerStreamKB: round((loaded.memory.external - base.memory.external) / n / KiB, 2),
          apiFds: loaded.fds,
          apiFdLimit: loaded.fdLimit,
          terminalsDelivered: stats.terminals,
          allDelivered: stats.terminals === streams && opened.streamsConnected === streams,
          drainSec: round(drainSec),
          openSec: round(openSec),
        });
        ctx.log(`capacity: ${stats.terminals}/${streams} streams got completed in ${round(drainSec)} s`);
        await ctx.clients.reset();
      } finally {
        await api.stop();
      }
    }
  } finally {
    await queue.close();
    await worker.stop();
  }
  return results;
}
