import { UsageError } from '../args.js';
import { exitCodes } from '../output.js';
import { describeKillSwitch } from './budget.js';
import type { CommandContext } from './context.js';

/** `jobstream kill-switch on|off [--reason "..."]` (admin). */
export async function killSwitchCommand(ctx: CommandContext): Promise<number> {
  const [setting, ...extra] = ctx.args.positionals;
  if (setting !== 'on' && setting !== 'off') throw new UsageError('kill-switch needs "on" or "off", e.g. jobstream kill-switch on --reason "provider outage"');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (quote the reason: --reason "...")`);
  const enabled = setting === 'on';
  const reason = ctx.args.reason?.trim();
  if (enabled && !reason) throw new UsageError('turning the kill-switch on needs a --reason "..." (it is shown to refused clients and kept in the audit trail)');
  const state = await ctx.client.setKillSwitch(enabled, reason || undefined, { signal: ctx.signal });
  if (ctx.args.json) ctx.out.value(state);
  else ctx.out.line(describeKillSwitch(state, ctx.out));
  return exitCodes.ok;
}
