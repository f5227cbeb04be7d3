import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../lib/context.js';
import { BenchQueue, benchPrefix } from '../lib/jobs.js';
import { startApi, startBaselineServer, startWorker } from '../lib/services.js';
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
  /** V8's reserved heap (heapTotal) per stream: heap pages kept after GC, part of RSS. */
  heapTotalPerStreamKB: number;
  apiFds: number;
  apiFdLimit: number;
  /** Streams that received their job's `completed` after the jobs ran. */
  terminalsDelivered: number;
  allDelivered: boolean;
  /** From resuming the queue until the last stream got `completed`. */
  drainSec: number;
  openSec: number;
  /** The same streams held by a bare node:http server (bench/load/baseline-sse-server.ts): the floor. */
  baseline: { rssPerStreamKB: number; heapPerStreamKB: number };
}

const PARKED_MS = 3_600_000;

/** Descriptors the api needs besides its streams (stdio, Redis, listener, epoll, IPC, libuv). */
const FD_RESERVE = 100;

/**
 * One api process per level, so each level starts from the same baseline. N parked jobs are added
 * and N streams opened (one per job) and left idle; memory is read after two full GCs before and
 * after. Then the jobs are released and every stream must receive its `completed`.
 */
export async function runCapacity(ctx: BenchContext): Promise<CapacityResult[]> {
  const results: CapacityResult[] = [];
  const prefix = benchPrefix('capacity');
  const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix };
  const queue = new BenchQueue(ctx.redis.url, prefix);
  const worker = await startWorker({
    runDir: ctx.runDir,
    env: { ...env, WORKER_CONCURRENCY: '200' },
    tag: 'capacity',
    nodeFlags: ctx.profileFlags('worker-capacity'),
  });
  ctx.fdLimits.worker = (await worker.probe()).fdLimit;
  try {
    for (const requested of ctx.options.streams) {
      const tag = `capacity-${requested}`;
      const api = await startApi({
        runDir: ctx.runDir,
        sseHeartbeatMs: ctx.options.sseHeartbeatMs,
        env,
        tag,
        nodeFlags: ctx.profileFlags(`api-${tag}`),
      });
      try {
        const first = await api.probe();
        ctx.fdLimits.api = first.fdLimit;
        const room = first.fdLimit - FD_RESERVE;
        const streams = Math.min(requested, room);
        const limitedBy = streams < requested ? `api open-file limit ${first.fdLimit}` : undefined;
        ctx.log(`capacity: ${streams} streams${limitedBy ? ` (not ${requested}: ${limitedBy})` : ''}`);

        // Parked (delayed) until the streams are measured. Not a paused queue: with N jobs waiting,
        // every stream open costs O(N) in Redis (see README, "What limits it").
        const warmup = await queue.add(Array.from({ length: 50 }, () => ({ durationMs: 0 })), PARKED_MS);
        const jobs = await queue.add(Array.from({ length: streams }, () => ({ durationMs: 0 })), PARKED_MS);

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
            `per stream: rss ${round((loaded.memory.rss - base.memory.rss) / n / KiB)} KB, heap used ` +
            `${round((loaded.memory.heapUsed - base.memory.heapUsed) / n / KiB)} KB, heap total ` +
            `${round((loaded.memory.heapTotal - base.memory.heapTotal) / n / KiB)} KB, external ` +
            `${round((loaded.memory.external - base.memory.external) / n / KiB)} KB`,
        );
        if (opened.errors.length > 0) ctx.log(`capacity: client errors: ${opened.errors.slice(0, 3).join('; ')}`);

        const resumed = Date.now();
        await queue.queue.promoteJobs({ count: 1_000 });
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
          heapTotalPerStreamKB: round((loaded.memory.heapTotal - base.memory.heapTotal) / n / KiB, 2),
          apiFds: loaded.fds,
          apiFdLimit: loaded.fdLimit,
          terminalsDelivered: stats.terminals,
          allDelivered: stats.terminals === streams && opened.streamsConnected === streams,
          drainSec: round(drainSec),
          openSec: round(openSec),
          baseline: await measureBaseline(ctx, jobs.map((j) => j.id as string), requested),
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

/** Per-stream memory of the same streams on the bare node:http server. */
async function measureBaseline(ctx: BenchContext, jobIds: string[], tag: number): Promise<{ rssPerStreamKB: number; heapPerStreamKB: number }> {
  const server = await startBaselineServer({ runDir: ctx.runDir, tag: String(tag) });
  try {
    await ctx.clients.open(server.url, jobIds.slice(0, 50));
    await ctx.clients.reset();
    await sleep(500);
    const base = await server.probe(true);
    const opened = await ctx.clients.open(server.url, jobIds, 100);
    await sleep(1_000);
    const loaded = await server.probe(true);
    await ctx.clients.reset();
    const n = Math.max(1, opened.streamsConnected);
    ctx.log(`capacity: bare node:http holds ${opened.streamsConnected} streams at ${round((loaded.memory.rss - base.memory.rss) / n / KiB)} KB RSS each`);
    return {
      rssPerStreamKB: round((loaded.memory.rss - base.memory.rss) / n / KiB, 2),
      heapPerStreamKB: round((loaded.memory.heapUsed - base.memory.heapUsed) / n / KiB, 2),
    };
  } finally {
    await server.stop();
  }
}
