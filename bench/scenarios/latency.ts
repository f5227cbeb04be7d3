import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { lifecycleEventCount } from '../lib/client-pool.js';
import type { BenchContext } from '../lib/context.js';
import { BenchQueue, benchPrefix, promoteEvenly, QUEUE_NAME } from '../lib/jobs.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { startApi, startWorker } from '../lib/services.js';
import { percentiles, round, type Percentiles } from '../lib/stats.js';

export interface LatencyResult {
  targetRate: number;
  /** Lifecycle events delivered per second while every job in flight was running its full course. */
  achievedRate: number;
  streams: number;
  /** Streams watching a running job (the rest watch parked jobs and only get heartbeats). */
  activeStreams: number;
  jobs: number;
  watchersPerJob: number;
  progressSteps: number;
  jobDurationMs: number;
  delivered: number;
  heartbeats: number;
  /** Worker finished the job (BullMQ `completed` event written) to client read, ms. */
  completed: Percentiles;
  /** The same for every live lifecycle event (waiting, active, progress, completed). */
  allEvents: Percentiles;
  apiCpuMs: number;
  workerCpuMs: number;
  redisCpuMs: number;
  /** api CPU time / events delivered in the phase, µs (includes heartbeats and feed reads). */
  apiCpuUsPerEvent: number;
  /** api CPU time / every message written (lifecycle events and heartbeats), µs. */
  apiCpuUsPerMessage: number;
  windowSec: number;
  lostStreams: number;
  /**
   * The relay's share of the latency: BullMQ event written → its pointer added to jobstream's live
   * feed (feed entry id time − event id time), per event (not per stream). The rest is the api's.
   */
  relayLag: Percentiles;
}

const WATCHERS_PER_JOB = 20;
const PARKED_MS = 3_600_000;

/** How a phase at one target rate is made. */
export interface LatencyPlan {
  jobs: number;
  steps: number;
  jobDurationMs: number;
  activeStreams: number;
  idleStreams: number;
}

/**
 * Jobs start evenly over the phase and each runs `jobDurationMs`, reporting progress `steps` times,
 * so starts, progress and completions all arrive at an even pace once the first jobs are running
 * (no burst of simultaneous completions). Each watching stream receives steps + 3 events (waiting,
 * active, progress..., completed); enough jobs are watched to reach the rate, the other streams
 * watch parked jobs and stay idle.
 */
export function planLatencyPhase(rate: number, phaseSec: number, streams: number): LatencyPlan {
  const jobDurationMs = Math.min(10_000, Math.round((phaseSec * 1000) / 3));
  const perStream = (rate * phaseSec) / streams;
  const steps = Math.max(Math.round((jobDurationMs / 1000) * 2), Math.ceil(perStream) - 3);
  const jobs = Math.max(1, Math.min(Math.floor(streams / WATCHERS_PER_JOB), Math.round((rate * phaseSec) / (steps + 3) / WATCHERS_PER_JOB)));
  const activeStreams = jobs * WATCHERS_PER_JOB;
  return { jobs, steps, jobDurationMs, activeStreams, idleStreams: streams - activeStreams };
}

/**
 * For each target rate: S streams are open; some watch `demo.work` jobs (WATCHERS_PER_JOB streams per
 * job) that start evenly over the phase, the rest watch parked (delayed) jobs. Latency is measured by
 * the client: read time minus the event's timestamp, which is the time of the BullMQ event id, that
 * is when the worker's state change was written to Redis (one clock: everything runs on this machine).
 */
export async function runLatency(ctx: BenchContext): Promise<LatencyResult[]> {
  const { durationSec: T, latencyStreams: S } = ctx.options;
  const prefix = benchPrefix('latency');
  const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix };
  const queue = new BenchQueue(ctx.redis.url, prefix);
  const worker = await startWorker({
    runDir: ctx.runDir,
    env: { ...env, WORKER_CONCURRENCY: '1000' },
    tag: 'latency',
    nodeFlags: ctx.profileFlags('worker-latency'),
  });
  const api = await startApi({
    runDir: ctx.runDir,
    sseHeartbeatMs: ctx.options.sseHeartbeatMs,
    env,
    tag: 'latency',
    nodeFlags: ctx.profileFlags('api-latency'),
  });
  const results: LatencyResult[] = [];
  try {
    for (const rate of ctx.options.rates) {
      const plan = planLatencyPhase(rate, T, S);
      const { jobs, steps, activeStreams: active, idleStreams: idle } = plan;
      ctx.log(
        `latency: ${rate}/s target: ${jobs} jobs x ${WATCHERS_PER_JOB} streams starting over ${T} s, ` +
          `${steps} steps in ${plan.jobDurationMs / 1000} s each, ${idle} idle streams`,
      );

      const activeJobs = await queue.add(Array.from({ length: jobs }, () => ({ durationMs: plan.jobDurationMs, steps })), PARKED_MS);
      const parked = await queue.add(Array.from({ length: Math.ceil(idle / WATCHERS_PER_JOB) }, () => ({ durationMs: 0 })), PARKED_MS);
      const ids = (list: Job[]): string[] => list.flatMap((j) => Array.from({ length: WATCHERS_PER_JOB }, () => j.id as string));
      const opened = await ctx.clients.open(api.url, [...ids(activeJobs), ...ids(parked).slice(0, idle)], 100);
      if (opened.streamsConnected !== S) ctx.log(`latency: only ${opened.streamsConnected} of ${S} streams connected`);
      await sleep(2_000);

      const before = await ctx.clients.stats();
      const meter = new CpuMeter({ api: api.pid, worker: worker.pid, redis: ctx.redis.process.pid });
      const started = Date.now();
      await promoteEvenly(activeJobs, T * 1000);
      const deadline = started + T * 1000 + plan.jobDurationMs + 60_000;
      let now = await ctx.clients.stats();
      while (now.terminals - before.terminals < active && Date.now() < deadline) {
        await sleep(100);
        now = await ctx.clients.stats();
      }
      const cpu = meter.read();
      const after = await ctx.clients.stats(started, [started + plan.jobDurationMs, started + T * 1000]);
      const delivered = lifecycleEventCount(after) - lifecycleEventCount(before);
      // The rate once the first jobs run their full course: from one job duration in until the last start.
      const steadyMs = Math.max(1, T * 1000 - plan.jobDurationMs);
      const windowMs = Math.max(1, after.samples.lastReadAt - after.samples.firstEventAt);
      const result: LatencyResult = {
        targetRate: rate,
        achievedRate: round((after.samples.steadyEvents / steadyMs) * 1000, 0),
        streams: opened.streamsConnected,
        activeStreams: active,
        jobs,
        watchersPerJob: WATCHERS_PER_JOB,
        progressSteps: steps,
        jobDurationMs: plan.jobDurationMs,
        delivered,
        heartbeats: (after.events.heartbeat ?? 0) - (before.events.heartbeat ?? 0),
        completed: percentiles(after.samples.completed),
        allEvents: percentiles([...after.samples.completed, ...after.samples.other]),
        apiCpuMs: round((cpu.cpuUs.api ?? 0) / 1000, 0),
        workerCpuMs: round((cpu.cpuUs.worker ?? 0) / 1000, 0),
        redisCpuMs: round((cpu.cpuUs.redis ?? 0) / 1000, 0),
        apiCpuUsPerEvent: round((cpu.cpuUs.api ?? 0) / Math.max(1, delivered), 1),
        apiCpuUsPerMessage: round(
          (cpu.cpuUs.api ?? 0) / Math.max(1, delivered + (after.events.heartbeat ?? 0) - (before.events.heartbeat ?? 0)),
          1,
        ),
        windowSec: round(windowMs / 1000),
        lostStreams: active - (after.terminals - before.terminals),
        relayLag: await relayLag(ctx.redis.url, prefix, started),
      };
      results.push(result);
      ctx.log(
        `latency: ${rate}/s target -> ${result.achievedRate}/s, completed p50/p95/p99 ` +
          `${result.completed.p50}/${result.completed.p95}/${result.completed.p99} ms (relay p50/p99 ` +
          `${result.relayLag.p50}/${result.relayLag.p99} ms), ${result.apiCpuUsPerEvent} µs/event`,
      );
      await ctx.clients.reset();
    }
  } finally {
    await api.stop();
    await worker.stop();
    await queue.close();
  }
  return results;
}

/** Reads jobstream's live feed (`<prefix>:jobs:js:feed`, entries `j` job id, `i` history id) for the phase. */
async function relayLag(redisUrl: string, prefix: string, since: number): Promise<Percentiles> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const entries = (await redis.xrange(`${prefix}:${QUEUE_NAME}:js:feed`, String(since), '+')) as [string, string[]][];
    const lags: number[] = [];
    for (const [id, fields] of entries) {
      const at = fields.indexOf('i');
      const historyId = at >= 0 ? fields[at + 1] : undefined;
      if (historyId) lags.push(Number(id.split('-')[0]) - Number(historyId.split('-')[0]));
    }
    return percentiles(lags);
  } finally {
    redis.disconnect();
  }
}
