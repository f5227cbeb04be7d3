import type { JobSnapshot } from '@jobstream/client';
import { exitCodes, formatDuration } from '../output.js';
import type { CommandContext } from './context.js';

/** How long the job took, or has been running or waiting, as of `now`. */
function age(job: JobSnapshot, now: number): string {
  const created = Date.parse(job.createdAt);
  const started = job.startedAt ? Date.parse(job.startedAt) : undefined;
  const finished = job.finishedAt ? Date.parse(job.finishedAt) : undefined;
  if (finished !== undefined) return `took ${formatDuration(finished - (started ?? created))}`;
  if (started !== undefined) return `running ${formatDuration(now - started)}`;
  return `waiting ${formatDuration(now - created)}`;
}

/** `jobstream jobs [--limit N] [--cursor c]`: one page of the caller's own jobs, newest first. */
export async function jobsCommand(ctx: CommandContext): Promise<number> {
  const { limit, cursor } = ctx.args;
  const page = await ctx.client.listJobs({ ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}), signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(page);
    return exitCodes.ok;
  }
  if (page.jobs.length === 0) {
    ctx.out.line('No jobs.');
    return exitCodes.ok;
  }
  const now = Date.now();
  const rows = page.jobs.map((job) => {
    const progress = job.state === 'active' && typeof job.progress === 'number' ? ` ${job.progress}%` : '';
    return [job.jobId, job.type, `${job.state}${progress}`, job.createdAt, age(job, now)] as const;
  });
  // Each column as wide as its widest cell on this page: job types and ids vary in length.
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  for (const row of rows) ctx.out.line(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  if (page.nextCursor !== null) ctx.out.line(`older: jobstream jobs${limit !== undefined ? ` --limit ${limit}` : ''} --cursor ${page.nextCursor}`);
  return exitCodes.ok;
}
