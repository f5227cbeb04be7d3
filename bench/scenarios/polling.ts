import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../lib/context.js';
import { BenchQueue, benchPrefix, promoteEvenly } from '../lib/jobs.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { startApi, startWorker } from '../lib/services.js';
import { percentiles, round, type Percentiles } from '../lib/stats.js';

export interface WatchSide {
  /** HTTP requests the watchers made (polls, or one per stream). */
  requests: number;
  /** Bytes on the wire both ways (TCP payload, headers included). */
  bytes: number;
  apiCpuMs: number;
  redisCpuMs: number;
  /** Jobs whose outcome the watchers learned. */
  jobsKnown: number;
  /** From the job's completion to its watcher knowing, ms. */
  timeToKnow: Percentiles;
  seconds: number;
}

export interface PollingResult {
  jobs: number;
  pollIntervalMs: number;
  jobDurationMs: [number, number];
  progressSteps: number;
  polling: WatchSide;
  sse: WatchSide;
}

const POLL_INTERVAL_MS = 2_000;
const STEPS = 5;
const PARKED_MS = 3_600_000;

/**
 * The first users' design against SSE, on the same jobs: 1,000 `demo.work` jobs (durations spread
 * evenly over a range, 5 progress steps) start at once; in one phase each job has a poller that GETs
 * its status every 2 s (first poll at a random point of the first interval, as independent clients
 * would), in the other each job has one SSE stream opened as the job starts. Time to know: the
 * snapshot's finishedAt (polling) or the `completed` event's timestamp (SSE) to the client seeing it.
 */
export async function runPolling(ctx: BenchContext): Promise<PollingResult> {
  const count = ctx.options.watchedJobs;
  const durations: [number, number] = ctx.options.quick ? [1_000, 5_000] : [1_000, 20_000];
  const payloads = Array.from({ length: count }, (_, i) => ({
    durationMs: Math.round(durations[0] + ((durations[1] - durations[0]) * i) / Math.max(1, count - 1)),
    steps: STEPS,
  }));
  const prefix = benchPrefix('polling');
  const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix };
  const queue = new BenchQueue(ctx.redis.url, prefix);
  const worker = await startWorker({
    runDir: ctx.runDir,
    env: { ...env, WORKER_CONCURRENCY: String(Math.min(1000, count)) },
    tag: 'polling',
    nodeFlags: ctx.profileFlags('worker-polling'),
  });
  const api = await startApi({
    runDir: ctx.runDir,
    sseHeartbeatMs: ctx.options.sseHeartbeatMs,
    env,
    tag: 'polling',
    nodeFlags: ctx.profileFlags('api-polling'),
  });
  const timeoutMs = durations[1] + 60_000;
  try {
    // Polling.
    const pollJobs = await queue.add(payloads, PARKED_MS);
    await sleep(1_000);
    let meter = new CpuMeter({ api: api.pid, redis: ctx.redis.process.pid });
    let started = Date.now();
    await Promise.all([
      promoteEvenly(pollJobs, 0),
      ctx.clients.poll(api.url, pollJobs.map((j) => j.id as string), POLL_INTERVAL_MS, timeoutMs),
    ]);
    let stats = await ctx.clients.stats();
    while (stats.poll.running && Date.now() < started + timeoutMs + 5_000) {
      await sleep(200);
      stats = await ctx.clients.stats();
    }
    let cpu = meter.read();
    let seconds = (Date.now() - started) / 1000;
    await ctx.clients.closeAll();
    stats = await ctx.clients.stats();
    const polling: WatchSide = {
      requests: stats.poll.requests,
      bytes: stats.bytes,
      apiCpuMs: round((cpu.cpuUs.api ?? 0) / 1000, 0),
      redisCpuMs: round((cpu.cpuUs.redis ?? 0) / 1000, 0),
      jobsKnown: stats.poll.jobsFinished,
      timeToKnow: percentiles(stats.poll.knowLatencies),
      seconds: round(seconds),
    };
    ctx.log(`polling: ${polling.requests} requests, ${round(polling.bytes / 1024 / 1024, 2)} MiB, api ${polling.apiCpuMs} ms CPU`);
    await ctx.clients.reset();

    // SSE.
    const sseJobs = await queue.add(payloads, PARKED_MS);
    await sleep(1_000);
    meter = new CpuMeter({ api: api.pid, redis: ctx.redis.process.pid });
    started = Date.now();
    const [, opened] = await Promise.all([promoteEvenly(sseJobs, 0), ctx.clients.open(api.url, sseJobs.map((j) => j.id as string), 100)]);
    stats = opened;
    while (stats.terminals < opened.streamsConnected && Date.now() < started + timeoutMs) {
      await sleep(200);
      stats = await ctx.clients.stats();
    }
    cpu = meter.read();
    seconds = (Date.now() - started) / 1000;
    stats = await ctx.clients.stats(started);
    const sse: WatchSide = {
      requests: stats.streamsRequested,
      bytes: stats.bytes,
      apiCpuMs: round((cpu.cpuUs.api ?? 0) / 1000, 0),
      redisCpuMs: round((cpu.cpuUs.redis ?? 0) / 1000, 0),
      jobsKnown: stats.terminals,
      timeToKnow: percentiles(stats.samples.completed),
      seconds: round(seconds),
    };
    ctx.log(`sse: ${sse.requests} requests, ${round(sse.bytes / 1024 / 1024, 2)} MiB, api ${sse.apiCpuMs} ms CPU`);
    await ctx.clients.reset();
    return { jobs: count, pollIntervalMs: POLL_INTERVAL_MS, jobDurationMs: durations, progressSteps: STEPS, polling, sse };
  } finally {
    await api.stop();
    await worker.stop();
    await queue.close();
  }
}
