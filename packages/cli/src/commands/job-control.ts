import { UsageError } from '../args.js';
import { exitCodes } from '../output.js';
import type { CommandContext } from './context.js';

/** The one job id a command takes, or a usage error naming the command. */
function jobIdOf(ctx: CommandContext, command: string): string {
  const [jobId, ...extra] = ctx.args.positionals;
  if (!jobId) throw new UsageError(`${command} needs a job id: jobstream ${command} <jobId>`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return jobId;
}

/** `jobstream cancel <jobId>`: removes a job that has not started, or asks its worker to stop it. */
export async function cancelCommand(ctx: CommandContext): Promise<number> {
  const jobId = jobIdOf(ctx, 'cancel');
  const answer = await ctx.client.cancelJob(jobId, { signal: ctx.signal });
  if (ctx.args.json) ctx.out.value(answer);
  else if (answer.action === 'removed') ctx.out.line(`Cancelled job ${jobId}: removed before it ran.`);
  else ctx.out.line(`Cancelling job ${jobId}: its worker was asked to stop it; "jobstream watch ${jobId}" shows when it has.`);
  return exitCodes.ok;
}

/** `jobstream retry <jobId>`: runs a failed job again under its id. */
export async function retryCommand(ctx: CommandContext): Promise<number> {
  const jobId = jobIdOf(ctx, 'retry');
  const answer = await ctx.client.retryJob(jobId, { signal: ctx.signal });
  if (ctx.args.json) ctx.out.value(answer);
  else ctx.out.line(`Retrying ${answer.type} job ${jobId} (${answer.state}); follow it: jobstream watch ${jobId}`);
  return exitCodes.ok;
}
