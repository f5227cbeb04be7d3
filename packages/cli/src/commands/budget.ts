import type { KillSwitchState } from '@jobstream/client';
import { exitCodes, formatUsd, type Output } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream budget`: this month's spend, the limit and the kill-switch (admin). */
export async function budgetCommand(ctx: CommandContext): Promise<number> {
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

/** `Kill-switch: ON since … by …: reason` or `Kill-switch: off`. */
export function describeKillSwitch(state: KillSwitchState, out: Output): string {
  const by = state.changedBy ? ` by ${state.changedBy}${state.auto ? ' (automatic)' : ''}` : '';
  const since = state.changedAt ? ` since ${state.changedAt}` : '';
  if (!state.enabled) return `Kill-switch: off${state.changedAt ? ` (turned off${since.replace(' since', '')}${by})` : ''}`;
  return out.red(`Kill-switch: ON${since}${by}: ${state.reason ?? 'no reason given'}`) + '\n  new jobs are refused with 429 BUDGET_LIMIT_EXCEEDED';
}
