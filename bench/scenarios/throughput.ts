import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../lib/context.js';
import { BenchQueue, benchPrefix } from '../lib/jobs.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { startApi, startRawWorker, startWorker, type Service } from '../lib/services.js';
import { mean, round } from '../lib/stats.js';

/**
 * raw: plain BullMQ worker. worker-only: jobstream's worker process with its relay switched off and
 * no api (isolates the worker's own overhead). jobstream: the whole pipeline with streams attached.
 */
export type ThroughputKind = 'raw' | 'worker-only' | 'jobstream';

export interface ThroughputRun {
  kind: ThroughputKind;
  round: number;
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  workerCpuMs: number;
  redisCpuMs: number;
  apiCpuMs?: number;
  watched?: number;
  watchedCompleted?: number;
  /** CPU of worker, api and Redis together per job, µs: what bounds jobs/s when they share the cores. */
  cpuUsPerJob: number;
}

export interface ThroughputResult {
  jobs: number;
  watched: number;
  concurrency: number;
  runs: ThroughputRun[];
  rawJobsPerSec: number;
  workerOnlyJobsPerSec: number;
  jobstreamJobsPerSec: number;
  ratio: number;
}

/**
 * The same N `demo.work` jobs (durationMs 0) are added to a paused queue, the workers start, and the
 * clock runs from resuming the queue until every job finished: for raw BullMQ, a plain Worker with the
 * same concurrency; for jobstream, its worker process (with the relay) plus the api with W streams
 * attached, finished only when every watched stream has received its `completed`. A third run, the
 * jobstream worker with its relay off and no api, splits the difference into the worker's own share
 * and the event pipeline's.
 */
export async function runThroughput(ctx: BenchContext): Promise<ThroughputResult> {
  const { throughputJobs: N, concurrency: C } = ctx.options;
  const W = Math.min(ctx.options.throughputWatched, N);
  const runs: ThroughputRun[] = [];
  for (let round_ = 1; round_ <= ctx.options.rounds; round_ += 1) {
    // Alternate the order so that neither side always runs on a warmer Redis.
    const order: ThroughputKind[] = round_ % 2 === 1 ? ['raw', 'jobstream', 'worker-only'] : ['worker-only', 'jobstream', 'raw'];
    for (const kind of order) {
      const run = kind === 'raw' ? await rawRun(ctx, N, C, round_) : await jobstreamRun(ctx, N, kind === 'jobstream' ? W : 0, C, round_);
      runs.push(run);
      ctx.log(`throughput: round ${round_} ${kind}: ${run.jobsPerSec} jobs/s`);
      await ctx.redis.flush();
    }
  }
  const raw = mean(runs.filter((r) => r.kind === 'raw').map((r) => r.jobsPerSec));
  const js = mean(runs.filter((r) => r.kind === 'jobstream').map((r) => r.jobsPerSec));
  const workerOnly = mean(runs.filter((r) => r.kind === 'worker-only').map((r) => r.jobsPerSec));
  return {
    jobs: N,
    watched: W,
    concurrency: C,
    runs,
    rawJobsPerSec: round(raw, 0),
    workerOnlyJobsPerSec: round(workerOnly, 0),
    jobstreamJobsPerSec: round(js, 0),
    ratio: round(js / raw, 3),
  };
}

async function rawRun(ctx: BenchContext, N: number, C: number, roundNo: number): Promise<ThroughputRun> {
  const prefix = benchPrefix('raw');
  const queue = new BenchQueue(ctx.redis.url, prefix);
  let worker: Service | undefined;
  try {
    await queue.queue.pause();
    await queue.add(Array.from({ length: N }, () => ({ durationMs: 0 })));
    worker = await startRawWorker({ runDir: ctx.runDir, env: {}, tag: `raw-${roundNo}`, redisUrl: ctx.redis.url, prefix, concurrency: C });
    await sleep(500);
    const meter = new CpuMeter({ worker: worker.pid, redis: ctx.redis.process.pid });
    const started = Date.now();
    await queue.queue.resume();
    const finished = await queue.waitFinished(N, 300_000);
    const cpu = meter.read();
    const seconds = (finished - started) / 1000;
    return {
      kind: 'raw',
      round: roundNo,
      jobs: N,
      seconds: round(seconds, 2),
      jobsPerSec: round(N / seconds, 0),
      workerCpuMs: round((cpu.cpuUs.worker ?? 0) / 1000, 0),
      redisCpuMs: round((cpu.cpuUs.redis ?? 0) / 1000, 0),
      cpuUsPerJob: round(((cpu.cpuUs.worker ?? 0) + (cpu.cpuUs.redis ?? 0)) / N, 0),
    };
  } finally {
    await worker?.stop();
    await queue.close();
  }
}

async function jobstreamRun(ctx: BenchContext, N: number, W: number, C: number, roundNo: number): Promise<ThroughputRun> {
  const full = W > 0;
  const prefix = benchPrefix('throughput');
  const env = { REDIS_URL: ctx.redis.url, QUEUE_PREFIX: prefix };
  const queue = new BenchQueue(ctx.redis.url, prefix);
  const services: Service[] = [];
  try {
    await queue.queue.pause();
    const jobs = await queue.add(Array.from({ length: N }, () => ({ durationMs: 0 })));
    const tag = `${full ? 'throughput' : 'worker-only'}-${roundNo}`;
    const api = full
      ? await startApi({ runDir: ctx.runDir, sseHeartbeatMs: ctx.options.sseHeartbeatMs, env, tag, nodeFlags: ctx.profileFlags(`api-${tag}`) })
      : undefined;
    if (api) services.push(api);
    const worker = await startWorker({
      runDir: ctx.runDir,
      env: { ...env, WORKER_CONCURRENCY: String(C), ...(full ? {} : { RELAY_ENABLED: 'false' }) },
      tag,
      nodeFlags: ctx.profileFlags(`worker-${tag}`),
    });
    services.push(worker);
    // Watch W jobs spread evenly over the run, the last one included.
    const step = N / Math.max(1, W);
    const watched = Array.from({ length: W }, (_, i) => jobs[Math.min(N - 1, Math.round((i + 1) * step) - 1)]?.id as string);
    const opened = api ? await ctx.clients.open(api.url, watched, 100) : await ctx.clients.stats();
    await sleep(500);
    const meter = new CpuMeter({ worker: worker.pid, ...(api ? { api: api.pid } : {}), redis: ctx.redis.process.pid });
    const started = Date.now();
    await queue.queue.resume();
    const jobsDone = await queue.waitFinished(N, 300_000);
    let stats = await ctx.clients.stats();
    let finished = jobsDone;
    const deadline = Date.now() + 60_000;
    while (stats.terminals < opened.streamsConnected && Date.now() < deadline) {
      await sleep(20);
      stats = await ctx.clients.stats();
      finished = Date.now();
    }
    const cpu = meter.read();
    const seconds = (finished - started) / 1000;
    await ctx.clients.reset();
    return {
      kind: full ? 'jobstream' : 'worker-only',
      round: roundNo,
      jobs: N,
      seconds: round(seconds, 2),
      jobsPerSec: round(N / seconds, 0),
      workerCpuMs: round((cpu.cpuUs.worker ?? 0) / 1000, 0),
      ...(api ? { apiCpuMs: round((cpu.cpuUs.api ?? 0) / 1000, 0) } : {}),
      redisCpuMs: round((cpu.cpuUs.redis ?? 0) / 1000, 0),
      ...(full ? { watched: opened.streamsConnected, watchedCompleted: stats.terminals } : {}),
      cpuUsPerJob: round(((cpu.cpuUs.worker ?? 0) + (cpu.cpuUs.api ?? 0) + (cpu.cpuUs.redis ?? 0)) / N, 0),
    };
  } finally {
    for (const s of services.reverse()) await s.stop();
    await queue.close();
  }
}
