import type { JobSnapshot, JobWatch } from '@jobstream/client';
import { exitCodes, formatDuration, type Output } from '../output.js';
import { progressText, renderProgressLine } from '../progress-bar.js';
import type { CommandContext } from './context.js';

/** `jobstream watch <jobId>`: follows the job to its end; exit 0 completed, 1 failed or cancelled. */
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

/**
 * When a state was reached, by the job's own times: a watch of a finished job replays its history
 * in a moment, and the moment is not what the job took.
 */
function stateTime(job: JobSnapshot): string | undefined {
  if (job.state === 'active') return job.startedAt;
  if (job.state === 'completed' || job.state === 'failed') return job.finishedAt;
  return job.createdAt;
}

/**
 * Plain lines for logs and pipes: one per state, progress or connection change, each stamped with
 * its time since the job was created, read from the event (or the snapshot) rather than the clock.
 */
async function followAsLines(watch: JobWatch, out: Output): Promise<void> {
  let origin: number | undefined;
  /** The timestamp of the event being handled; `state` and `progress` follow its `event` synchronously. */
  let eventAt: number | undefined;
  const say = (text: string, at = Date.now(), job?: JobSnapshot): void => {
    const created = job ? Date.parse(job.createdAt) : Number.NaN;
    if (!Number.isNaN(created)) origin ??= created;
    out.line(`${formatDuration(Math.max(0, at - (origin ?? at))).padStart(9)}  ${text}`);
  };
  const timeOf = (fallback: string | undefined): number => {
    const parsed = fallback === undefined ? Number.NaN : Date.parse(fallback);
    return eventAt ?? (Number.isNaN(parsed) ? Date.now() : parsed);
  };
  let wasLive = false;
  watch
    .on('event', (event) => {
      const at = Date.parse(event.data.timestamp);
      eventAt = Number.isNaN(at) ? undefined : at;
      queueMicrotask(() => (eventAt = undefined));
    })
    .on('state', (state, job) => say(state, timeOf(stateTime(job)), job))
    .on('progress', (progress, job) => {
      if (job.state === 'active' || progress !== 0) say(`progress ${progressText(progress)}`, timeOf(undefined), job);
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
    const job = watch.job;
    // The job's own time since it started (or was created); the watch's until it is known.
    const from = job ? Date.parse(job.startedAt ?? job.createdAt) : Number.NaN;
    const to = job?.finishedAt ? Date.parse(job.finishedAt) : Date.now();
    const line = renderProgressLine({
      job,
      connection: watch.connectionState,
      elapsedMs: Math.max(0, Number.isNaN(from) ? Date.now() - started : to - from),
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
  } else if (job.state === 'failed' && job.cancelledBy) {
    out.line(out.red(`✖ ${job.type} job ${job.jobId} cancelled by ${job.cancelledBy === 'admin' ? 'an admin' : 'its owner'}${took}`));
  } else if (job.state === 'failed') {
    out.line(out.red(`✖ ${job.type} job ${job.jobId} failed after ${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'}${took}: ${job.error ?? 'no reason given'}`));
  }
}
