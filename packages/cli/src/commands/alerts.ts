import { exitCodes, formatDuration, formatUsd } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream alerts`: which alerts hold, and the values they were evaluated from. */
export async function alertsCommand(ctx: CommandContext): Promise<number> {
  const answer = await ctx.client.alerts({ signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(answer);
    return exitCodes.ok;
  }
  const out = ctx.out;
  const age = formatDuration(Math.max(0, Date.now() - Date.parse(answer.evaluatedAt)));
  out.line(`${answer.alertsActive === 0 ? out.green('No alert active') : out.red(`${answer.alertsActive} alert${answer.alertsActive === 1 ? '' : 's'} active`)} (evaluated ${age} ago)`);
  if (answer.stale) out.line(out.yellow('  stale: the metrics service has not evaluated for three intervals; is it running?'));
  const names = Object.keys(answer.alerts) as (keyof typeof answer.alerts)[];
  for (const name of names) out.line(`  ${answer.alerts[name] ? out.red('FIRING') : out.dim('ok    ')}  ${name}`);
  const v = answer.values;
  const t = answer.thresholds;
  out.line('Values:');
  out.line(`  queue depth ${v.queueDepth} (high ${t.queueDepthHigh}, critical ${t.queueDepthCritical}), active ${v.active}, delayed ${v.delayed}`);
  out.line(`  failure rate ${(v.failureRate * 100).toFixed(1)}% (${v.failedInWindow} of ${v.finishedInWindow} in ${formatDuration(t.failureRateWindowMs)}; alert above ${(t.failureRate * 100).toFixed(0)}%)`);
  out.line(`  workers ${v.workersLive} live, ${v.workersStalled} stalled; circuit breakers open ${v.circuitBreakersOpen}`);
  out.line(`  budget ${formatUsd(v.budgetSpent)} of ${formatUsd(v.budgetLimit)}; kill-switch ${v.killSwitchEnabled ? out.red('on (new jobs refused)') : 'off'}`);
  return exitCodes.ok;
}
