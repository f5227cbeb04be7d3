import type { KillSwitchAuditEntry } from '@jobstream/client';
import { UsageError } from '../args.js';
import { exitCodes, type Output } from '../output.js';
import { describeKillSwitch } from './budget.js';
import type { CommandContext } from './context.js';

/** `jobstream kill-switch on|off [--reason "..."]` and `jobstream kill-switch audit [--limit N]` (admin). */
export async function killSwitchCommand(ctx: CommandContext): Promise<number> {
  const [setting, ...extra] = ctx.args.positionals;
  if (setting !== 'on' && setting !== 'off' && setting !== 'audit') {
    throw new UsageError('kill-switch needs "on", "off" or "audit", e.g. jobstream kill-switch on --reason "provider outage"');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (quote the reason: --reason "...")`);
  if (setting === 'audit') return auditCommand(ctx);
  if (ctx.args.limit !== undefined) throw new UsageError(`--limit applies to "kill-switch audit", not to "kill-switch ${setting}"`);
  const enabled = setting === 'on';
  const reason = ctx.args.reason?.trim();
  if (enabled && !reason) throw new UsageError('turning the kill-switch on needs a --reason "..." (it is shown to refused clients and kept in the audit trail)');
  const state = await ctx.client.setKillSwitch(enabled, reason || undefined, { signal: ctx.signal });
  if (ctx.args.json) ctx.out.value(state);
  else ctx.out.line(describeKillSwitch(state, ctx.out));
  return exitCodes.ok;
}

/** `jobstream kill-switch audit [--limit N]`: who turned it on or off, when and why, newest first. */
async function auditCommand(ctx: CommandContext): Promise<number> {
  if (ctx.args.reason !== undefined) throw new UsageError('--reason applies to "kill-switch on", not to "kill-switch audit"');
  const entries = await ctx.client.killSwitchAudit(ctx.args.limit ?? 20, { signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value({ entries });
    return exitCodes.ok;
  }
  if (entries.length === 0) {
    ctx.out.line('The kill-switch has not been turned on or off yet.');
    return exitCodes.ok;
  }
  for (const entry of entries) ctx.out.line(describeAuditEntry(entry, ctx.out));
  return exitCodes.ok;
}

/** `2026-12-06T09:00:00.000Z  ON   by ops: provider outage`. */
function describeAuditEntry(entry: KillSwitchAuditEntry, out: Output): string {
  const setting = entry.enabled ? out.red('ON ') : 'off';
  const by = `by ${entry.by}${entry.auto ? ' (automatic)' : ''}`;
  return `${entry.at}  ${setting}  ${by}${entry.reason ? `: ${entry.reason}` : ''}`;
}
