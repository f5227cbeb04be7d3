import { UsageError } from '../args.js';
import { exitCodes, formatDuration } from '../output.js';
import { progressText } from '../progress-bar.js';
import type { CommandContext } from './context.js';

/** `jobstream job <jobId>`: the job as it is now (the caller's own; any job for an admin). */
export async function jobCommand(ctx: CommandContext): Promise<number> {
  const [jobId, ...extra] = ctx.args.positionals;
  if (!jobId) throw new UsageError('job needs a job id: jobstream job <jobId>');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const job = await ctx.client.getJob(jobId, { signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(job);
    return exitCodes.ok;
  }
  const out = ctx.out;
  const attempts = `${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'} made`;
  const state = job.state === 'failed' ? out.red(job.state) : job.state === 'completed' ? out.green(job.state) : job.state;
  out.line(`Job ${job.jobId}  ${job.type}  ${state}, ${attempts}`);
  const times = [`created ${job.createdAt}`];
  if (job.startedAt) times.push(`started ${job.startedAt}`);
  if (job.finishedAt) times.push(`finished ${job.finishedAt}`);
  if (job.startedAt && job.finishedAt) times.push(`took ${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt))}`);
  out.line(`  ${times.join(', ')}`);
  if (job.state === 'active') out.line(`  progress ${progressText(job.progress)}`);
  if (job.error) out.line(`  error: ${job.error}`);
  if (job.result !== undefined) out.line(`  result: ${JSON.stringify(job.result)}`);
  return exitCodes.ok;
}
