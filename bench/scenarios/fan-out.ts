import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { ClientPool } from '../lib/client-pool.js';
import type { BenchContext } from '../lib/context.js';
import { cpuPerJob, designOrder, startDesign, type CpuPerJob, type Design } from '../lib/designs.js';
import { BenchQueue } from '../lib/jobs.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { commandsPerJob, readCommandCalls, type CommandsPerJob } from '../lib/redis-info.js';
import { relaySettled } from '../lib/relay-settled.js';
import { KiB, percentiles, round, type Percentiles } from '../lib/stats.js';

export interface FanOutRun {
  design: Design;
  round: number;
  idleStreams: number;
  targetRate: number;
  /** Jobs released at the target rate, each watched by one stream opened just before its release. */
  jobs: number;
  /** Jobs whose watcher read `completed`, per second from the first release to the last `completed`. */
  jobsPerSec: number;
  seconds: number;
  /** Watchers that never got their `completed` (any non-zero value is a bug). */
  lost: number;
  /** BullMQ wrote `completed` → the watcher read it, ms. */
  completed: Percentiles;
  /** The same for every live lifecycle event the design sends (jobstream also sends `waiting`). */
  allEvents: Percentiles;
  cpuUsPerJob: CpuPerJob;
  redisCommands: CommandsPerJob;
  /** The api's RSS and V8 heap used per idle stream (after two full GCs, before and after opening them). */
  rssPerIdleStreamKB: number;
  heapPerIdleStreamKB: number;
}

export interface FanOutResult {
  idleStreams: number;
  targetRate: number;
  durationSec: number;
  runs: FanOutRun[];
}

const PARKED_MS = 3_600_000;
const WARMUP_STREAMS = 50;
/** How often a batch of jobs is released: small batches keep the rate even. */
const TICK_MS = 20;

/**
 * N idle streams stay open on parked jobs while jobs run at a steady rate, each watched by one
 * stream that connects just before its job is released (promoted from parked), so every watcher
 * sees the job's events live. Run for each design in turn, the order alternating over the rounds.
 */
export async function runFanOut(ctx: BenchContext): Promise<FanOutResult> {
  const runs: FanOutRun[] = [];
  for (let roundNo = 1; roundNo <= ctx.options.rounds; roundNo += 1) {
    for (const design of designOrder(roundNo)) {
      const run = await fanOutRun(ctx, design, roundNo);
      runs.push(run);
      ctx.log(
        `fanout: round ${roundNo} ${design}: ${run.jobsPerSec} jobs/s, completed p50/p95/p99 ` +
          `${run.completed.p50}/${run.completed.p95}/${run.completed.p99} ms, CPU/job api ${run.cpuUsPerJob.api} µs, ` +
          `RSS ${run.rssPerIdleStreamKB} KB per idle stream${run.lost ? `, ${run.lost} LOST` : ''}`,
      );
      await ctx.redis.flush();
    }
  }
  return { idleStreams: ctx.options.idleStreams, targetRate: ctx.options.fanOutRate, durationSec: ctx.options.baselineDurationSec, runs };
}

async function fanOutRun(ctx: BenchContext, design: Design, roundNo: number): Promise<FanOutRun> {
  const { idleStreams, fanOutRate: rate, baselineDurationSec: durationSec } = ctx.options;
  const running = await startDesign(ctx, design, `fanout-${roundNo}`);
  const queue = new BenchQueue(ctx.redis.url, running.prefix);
  const redis = new Redis(ctx.redis.url, { maxRetriesPerRequest: 1 });
  const url = running.api.url;
  const ids = (jobs: Job[]): string[] => jobs.map((j) => j.id as string);
  try {
    const zero = (n: number): { durationMs: number }[] => Array.from({ length: n }, () => ({ durationMs: 0 }));
    const warmup = await queue.add(zero(WARMUP_STREAMS), PARKED_MS);
    const idle = await queue.add(zero(idleStreams), PARKED_MS);
    const watched = await queue.add(zero(rate * durationSec), PARKED_MS);

    // Warm up the code paths (JIT, Express, Redis buffers) so that they are not counted per stream.
    await ctx.clients.open(url, ids(warmup));
    await ctx.clients.reset();
    await sleep(500);
    const base = await running.api.probe(true);
    const opened = await ctx.clients.open(url, ids(idle), 100);
    await sleep(1_000);
    const loaded = await running.api.probe(true);
    const n = Math.max(1, opened.streamsConnected);
    if (opened.streamsConnected !== idleStreams) ctx.log(`fanout: ${design}: only ${opened.streamsConnected} of ${idleStreams} idle streams connected`);

    // Parking the jobs wrote an event each; jobstream's relay copies them, which is not the work measured.
    await relaySettled(redis, design, running.prefix);
    const before = await ctx.clients.stats();
    const commandsBefore = await readCommandCalls(ctx.redis.url);
    const meter = new CpuMeter(running.pids);
    const started = Date.now();
    await releaseAtRate(ctx.clients, url, watched, rate);
    const watchers = (await ctx.clients.stats()).streamsConnected - before.streamsConnected;
    if (watchers !== watched.length) ctx.log(`fanout: ${design}: only ${watchers} of ${watched.length} watchers connected`);
    const deadline = Date.now() + 60_000;
    let now = await ctx.clients.stats();
    while (now.terminals - before.terminals < watchers && Date.now() < deadline) {
      await sleep(50);
      now = await ctx.clients.stats();
    }
    const finished = Date.now();
    const cpu = meter.read();
    const commandsAfter = await readCommandCalls(ctx.redis.url);
    const after = await ctx.clients.stats(started);
    const delivered = after.terminals - before.terminals;
    const seconds = (finished - started) / 1000;
    await ctx.clients.reset();
    return {
      design,
      round: roundNo,
      idleStreams: opened.streamsConnected,
      targetRate: rate,
      jobs: watched.length,
      jobsPerSec: round(delivered / seconds, 0),
      seconds: round(seconds, 1),
      lost: watched.length - delivered,
      completed: percentiles(after.samples.completed),
      allEvents: percentiles([...after.samples.completed, ...after.samples.other]),
      cpuUsPerJob: cpuPerJob(cpu, delivered),
      redisCommands: commandsPerJob(commandsBefore, commandsAfter, delivered),
      rssPerIdleStreamKB: round((loaded.memory.rss - base.memory.rss) / n / KiB, 2),
      heapPerIdleStreamKB: round((loaded.memory.heapUsed - base.memory.heapUsed) / n / KiB, 2),
    };
  } finally {
    await ctx.clients.reset().catch(() => undefined);
    redis.disconnect();
    await running.stop();
    await queue.close();
  }
}

/**
 * Releases `jobs` at `rate` per second: every tick the jobs now due get their watcher (resolved once
 * it got `connected`) and are then promoted. Ticks overlap, so a slow open does not slow the pace.
 * Resolves once every job is released.
 */
async function releaseAtRate(clients: ClientPool, url: string, jobs: Job[], rate: number): Promise<void> {
  const started = Date.now();
  const releases: Promise<void>[] = [];
  let next = 0;
  while (next < jobs.length) {
    const due = Math.min(jobs.length, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
    if (due > next) {
      const batch = jobs.slice(next, due);
      next = due;
      releases.push(
        (async () => {
          await clients.open(url, batch.map((j) => j.id as string), 64);
          await Promise.all(batch.map((j) => j.promote()));
        })(),
      );
    }
    await sleep(TICK_MS);
  }
  await Promise.all(releases);
}
