import type { KillSwitchState } from '@jobstream/client';
import { UsageError } from '../args.js';
import { exitCodes, formatUsd, type Output } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream budget`: this month's spend, the limit and the kill-switch; `budget charges`: where it went (admin). */
export async function budgetCommand(ctx: CommandContext): Promise<number> {
  const [sub, ...extra] = ctx.args.positionals;
  if (sub !== undefined && sub !== 'charges') throw new UsageError(`unknown budget view "${sub}": jobstream budget, or jobstream budget charges [--limit N] [--period YYYY-MM]`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (sub === 'charges') return chargesCommand(ctx);
  if (ctx.args.limit !== undefined || ctx.args.period !== undefined) throw new UsageError('--limit and --period apply to "budget charges", not to "budget"');
  const budget = await ctx.client.budget({ signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(budget);
    return exitCodes.ok;
  }
  if (budget.limit === null) {
    ctx.out.line(`Budget ${budget.period}: ${formatUsd(budget.spent)} spent (no limit known yet: has the metrics service run?)`);
  } else {
    const share = budget.limit > 0 ? ` (${((budget.spent / budget.limit) * 100).toFixed(1)}%)` : '';
    const remaining = budget.remaining ?? 0;
    // Spend can pass the limit (jobs already running finish and are charged): say so, not "$-0.35 left".
    const rest = remaining < 0 ? `${formatUsd(-remaining)} over the limit` : `${formatUsd(remaining)} left`;
    ctx.out.line(`Budget ${budget.period}: ${formatUsd(budget.spent)} spent of ${formatUsd(budget.limit)}${share}, ${rest}`);
    // An older api does not say where the warning is.
    if (typeof budget.warnAt === 'number') ctx.out.line(`  the warning goes out at ${formatUsd(budget.warnAt)}`);
  }
  ctx.out.line(describeKillSwitch(budget.killSwitch, ctx.out));
  return exitCodes.ok;
}

/** `jobstream budget charges [--limit N] [--period YYYY-MM]`: the month's most expensive jobs and who submitted them. */
async function chargesCommand(ctx: CommandContext): Promise<number> {
  const { limit, period } = ctx.args;
  const answer = await ctx.client.budgetCharges({ ...(limit !== undefined ? { limit } : {}), ...(period !== undefined ? { period } : {}) }, { signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(answer);
    return exitCodes.ok;
  }
  ctx.out.line(`Budget ${answer.period}: ${answer.jobsCharged} job${answer.jobsCharged === 1 ? '' : 's'} charged, ${formatUsd(answer.total)} in all`);
  const costs = answer.jobs.map((job) => formatUsd(job.cost));
  const width = Math.max(0, ...costs.map((cost) => cost.length));
  answer.jobs.forEach((job, i) => ctx.out.line(`  ${(costs[i] ?? '').padStart(width)}  ${job.jobId}  ${job.owner ?? '(job expired)'}`));
  return exitCodes.ok;
}

/** `Kill-switch: ON since … by …: reason` or `Kill-switch: off`. */
export function describeKillSwitch(state: KillSwitchState, out: Output): string {
  const by = state.changedBy ? ` by ${state.changedBy}${state.auto ? ' (automatic)' : ''}` : '';
  const since = state.changedAt ? ` since ${state.changedAt}` : '';
  if (!state.enabled) return `Kill-switch: off${state.changedAt ? ` (turned off${since.replace(' since', '')}${by})` : ''}`;
  return out.red(`Kill-switch: ON${since}${by}: ${state.reason ?? 'no reason given'}`) + '\n  new jobs are refused with 429 BUDGET_LIMIT_EXCEEDED';
}
