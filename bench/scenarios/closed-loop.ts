import { setTimeout as sleep } from 'node:timers/promises';
import { ClosedLoopPool } from '../lib/closed-loop-pool.js';
import type { BenchContext } from '../lib/context.js';
import { cpuPerJob, designOrder, startDesign, type CpuPerJob, type Design } from '../lib/designs.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { commandsPerJob, readCommandCalls, type CommandsPerJob } from '../lib/redis-info.js';
import { mean, percentiles, round, type Percentiles } from '../lib/stats.js';

export interface ClosedLoopRun {
  design: Design;
  round: number;
  clients: number;
  seconds: number;
  /** Jobs whose outcome a client read within the measured window. */
  jobs: number;
  jobsPerSec: number;
  /** Submissions or streams that failed within the window (any non-zero value is a bug). */
  failures: number;
  /** POST sent → outcome read, ms. */
  roundTrip: Percentiles;
  cpuUsPerJob: CpuPerJob;
  redisCommands: CommandsPerJob;
}

/** Means over the rounds of one design. */
export interface DesignSummary {
  jobsPerSec: number;
  cpuUsPerJob: CpuPerJob;
  redisCommandsPerJob: number;
}

export interface ClosedLoopResult {
  clients: number;
  durationSec: number;
  concurrency: number;
  runs: ClosedLoopRun[];
  jobstream: DesignSummary;
  handbuilt: DesignSummary;
  /** jobstream / hand-built of each mean. */
  ratio: { jobsPerSec: number; apiCpu: number; workerCpu: number; totalCpu: number; redisCommands: number };
}

/** Time for the loops, JIT and connections to settle before the window opens. */
const WARMUP_MS = 2_000;

/**
 * C clients each repeat: submit a 0 ms `demo.work` job (`POST /api/jobs`), open its stream, read
 * it until it ends after the outcome. Run for each design in turn (the order alternating over the
 * rounds); after a warm-up, the window counts the jobs finished, the CPU of api, worker and Redis
 * and the commands Redis ran.
 */
export async function runClosedLoop(ctx: BenchContext): Promise<ClosedLoopResult> {
  const pool = await ClosedLoopPool.start(ctx.options.clients, ctx.runDir);
  const runs: ClosedLoopRun[] = [];
  try {
    for (let roundNo = 1; roundNo <= ctx.options.rounds; roundNo += 1) {
      for (const design of designOrder(roundNo)) {
        const run = await closedLoopRun(ctx, pool, design, roundNo);
        runs.push(run);
        ctx.log(
          `closedloop: round ${roundNo} ${design}: ${run.jobsPerSec} jobs/s, CPU/job api ${run.cpuUsPerJob.api} µs, ` +
            `worker ${run.cpuUsPerJob.worker} µs, Redis ${run.cpuUsPerJob.redis} µs, ${run.redisCommands.total} Redis commands/job` +
            (run.failures ? `, ${run.failures} FAILURES` : ''),
        );
        await ctx.redis.flush();
      }
    }
  } finally {
    await pool.close();
  }
  const jobstream = summarize(runs.filter((r) => r.design === 'jobstream'));
  const handbuilt = summarize(runs.filter((r) => r.design === 'handbuilt'));
  const ratio = (a: number, b: number): number => round(a / b, 2);
  return {
    clients: ctx.options.loopClients,
    durationSec: ctx.options.baselineDurationSec,
    concurrency: ctx.options.concurrency,
    runs,
    jobstream,
    handbuilt,
    ratio: {
      jobsPerSec: ratio(jobstream.jobsPerSec, handbuilt.jobsPerSec),
      apiCpu: ratio(jobstream.cpuUsPerJob.api, handbuilt.cpuUsPerJob.api),
      workerCpu: ratio(jobstream.cpuUsPerJob.worker, handbuilt.cpuUsPerJob.worker),
      totalCpu: ratio(jobstream.cpuUsPerJob.total, handbuilt.cpuUsPerJob.total),
      redisCommands: ratio(jobstream.redisCommandsPerJob, handbuilt.redisCommandsPerJob),
    },
  };
}

async function closedLoopRun(ctx: BenchContext, pool: ClosedLoopPool, design: Design, roundNo: number): Promise<ClosedLoopRun> {
  const clients = ctx.options.loopClients;
  const running = await startDesign(ctx, design, `closedloop-${roundNo}`);
  try {
    await pool.run(running.api.url, clients);
    await sleep(WARMUP_MS);
    const commandsBefore = await readCommandCalls(ctx.redis.url);
    const meter = new CpuMeter(running.pids);
    const from = Date.now();
    const before = await pool.stats();
    await sleep(ctx.options.baselineDurationSec * 1000);
    const to = Date.now();
    const cpu = meter.read();
    const commandsAfter = await readCommandCalls(ctx.redis.url);
    const after = await pool.stats([from, to]);
    await pool.halt();
    const jobs = after.roundTripMs?.length ?? 0;
    if (after.errors.length > 0) ctx.log(`closedloop: ${design} client errors: ${after.errors.slice(0, 3).join('; ')}`);
    const seconds = (to - from) / 1000;
    return {
      design,
      round: roundNo,
      clients,
      seconds: round(seconds, 1),
      jobs,
      jobsPerSec: round(jobs / seconds, 0),
      failures: after.failures - before.failures,
      roundTrip: percentiles(after.roundTripMs ?? []),
      cpuUsPerJob: cpuPerJob(cpu, jobs),
      redisCommands: commandsPerJob(commandsBefore, commandsAfter, jobs),
    };
  } finally {
    await running.stop();
  }
}

function summarize(runs: ClosedLoopRun[]): DesignSummary {
  const avg = (pick: (r: ClosedLoopRun) => number): number => round(mean(runs.map(pick)), 0);
  return {
    jobsPerSec: avg((r) => r.jobsPerSec),
    cpuUsPerJob: {
      api: avg((r) => r.cpuUsPerJob.api),
      worker: avg((r) => r.cpuUsPerJob.worker),
      redis: avg((r) => r.cpuUsPerJob.redis),
      total: avg((r) => r.cpuUsPerJob.total),
    },
    redisCommandsPerJob: round(mean(runs.map((r) => r.redisCommands.total)), 1),
  };
}
