import type { WorkerStatus } from '@jobstream/client';
import { exitCodes, formatDuration, type Output } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream workers` (admin): every worker's latest heartbeat, its jobs and its circuit breakers. */
export async function workersCommand(ctx: CommandContext): Promise<number> {
  const answer = await ctx.client.workers({ signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(answer);
    return exitCodes.ok;
  }
  const out = ctx.out;
  const live = answer.workers.filter((w) => w.live).length;
  const stalled = answer.workers.filter((w) => w.stalled).length;
  const limit = answer.stallMs === null ? 'stall limit unknown: no alert evaluation yet' : `stall limit ${formatDuration(answer.stallMs)}`;
  out.line(`Workers: ${live} live, ${stalled === 0 ? '0 stalled' : out.red(`${stalled} stalled`)} (${limit})`);
  if (answer.workers.length === 0) out.line('  no heartbeat in Redis: no worker runs, or none has started yet');
  for (const worker of answer.workers) describeWorker(worker, out);
  return exitCodes.ok;
}

/** The worker's line, then one line per job it runs and per circuit breaker. */
function describeWorker(worker: WorkerStatus, out: Output): void {
  const state = worker.stalled ? out.red('STALLED') : worker.live ? out.green('live') : out.yellow('silent');
  out.line(`${worker.workerId}  pid ${worker.pid} on ${worker.host}  heartbeat ${formatDuration(worker.heartbeatAgeMs)} ago  ${state}`);
  if (worker.activeJobs.length === 0) out.line('  no active job');
  for (const job of worker.activeJobs) {
    out.line(`  job ${job.jobId}  ${job.type}  running ${formatDuration(job.runningMs)}, last progress ${formatDuration(job.silentMs)} ago`);
  }
  for (const breaker of worker.breakers) {
    const state = breaker.state === 'closed' ? 'closed' : out.red(breaker.state);
    out.line(`  breaker ${breaker.name}  ${state}, ${breaker.failures} failure${breaker.failures === 1 ? '' : 's'}, since ${breaker.changedAt}`);
  }
}
