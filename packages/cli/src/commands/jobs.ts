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
  for (const job of page.jobs) {
    const progress = job.state === 'active' && typeof job.progress === 'number' ? ` ${job.progress}%` : '';
    ctx.out.line(`${job.jobId}  ${job.type.padEnd(18)}  ${`${job.state}${progress}`.padEnd(12)}  ${job.createdAt}  ${age(job, now)}`);
  }
  if (page.nextCursor !== null) ctx.out.line(`older: jobstream jobs${limit !== undefined ? ` --limit ${limit}` : ''} --cursor ${page.nextCursor}`);
  return exitCodes.ok;
}
