import type { JobSnapshot, JobWatch } from '@jobstream/client';
import { exitCodes, formatDuration, type Output } from '../output.js';
import { progressText, renderProgressLine } from '../progress-bar.js';
import type { CommandContext } from './context.js';

/** `jobstream watch <jobId>`: follows the job to its end; exit 0 completed, 1 failed. */
export async function watchCommand(ctx: CommandContext, jobId: string): Promise<number> {
  const watch = ctx.client.watchJob(jobId, { signal: ctx.signal });
  if (ctx.out.json) await followAsJson(watch, ctx.out);
  else if (ctx.out.interactive) await followWithBar(watch, ctx.out);
  else await followAsLines(watch, ctx.out);

  if (ctx.signal.aborted) return exitCodes.interrupted;
  const job = watch.job;
  if (!ctx.out.json && job) printOutcome(job, ctx.out);
  return job?.state === 'completed' ? exitCodes.ok : job?.state === 'failed' ? exitCodes.jobFailed : exitCodes.apiError;
}

/** One JSON line per event, snapshot and connection change (NDJSON); the last one is the outcome. */
async function followAsJson(watch: JobWatch, out: Output): Promise<void> {
  watch.on('connection', (info) => {
    if (info.state !== 'closed') out.value({ event: 'connection', state: info.state, ...(info.reason ? { reason: info.reason } : {}) });
  });
  for await (const item of watch) out.value(item);
}

/** Plain lines for logs and pipes: one per state, progress or connection change. */
async function followAsLines(watch: JobWatch, out: Output): Promise<void> {
  const started = Date.now();
  const say = (text: string): void => out.line(`${formatDuration(Date.now() - started).padStart(9)}  ${text}`);
  let wasLive = false;
  watch
    .on('state', (state) => say(state))
    .on('progress', (progress, job) => {
      if (job.state === 'active' || progress !== 0) say(`progress ${progressText(progress)}`);
    })
    .on('reset', () => say('the history no longer covers this watch: continuing from the job as it is now'))
    .on('connection', (info) => {
      if (info.state === 'live' && wasLive) say('connection live again');
      else if (info.state === 'reconnecting' || info.state === 'polling') say(`connection ${info.state}${info.reason ? ` (${info.reason})` : ''}`);
      if (info.state === 'live') wasLive = true;
    });
  await watch.done;
}

/** A progress bar redrawn in place, for a person at a terminal. */
async function followWithBar(watch: JobWatch, out: Output): Promise<void> {
  const started = Date.now();
  let frame = 0;
  const draw = (): void => {
    const line = renderProgressLine({
      job: watch.job,
      connection: watch.connectionState,
      elapsedMs: Date.now() - started,
      // A pseudo-terminal without a size reports 0 columns.
      columns: out.io.stdout.columns || 80,
      frame: frame++,
    });
    out.io.stdout.write(`\r\x1b[2K${line}`);
  };
  const timer = setInterval(draw, 100);
  watch.on('job', draw).on('connection', draw);
  try {
    await watch.done;
  } finally {
    clearInterval(timer);
    out.io.stdout.write('\r\x1b[2K');
  }
}

function printOutcome(job: JobSnapshot, out: Output): void {
  const took = job.startedAt && job.finishedAt ? ` in ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt))}` : '';
  if (job.state === 'completed') {
    out.line(out.green(`✔ ${job.type} job ${job.jobId} completed${took}`));
    if (job.result !== undefined) out.line(`result: ${JSON.stringify(job.result, null, 2)}`);
  } else if (job.state === 'failed') {
    out.line(out.red(`✖ ${job.type} job ${job.jobId} failed after ${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'}${took}: ${job.error ?? 'no reason given'}`));
  }
}
