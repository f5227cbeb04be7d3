import type { SystemEventEntry, SystemEventName } from '@jobstream/client';
import { systemEventNames } from '@jobstream/contracts';
import { UsageError } from '../args.js';
import { exitCodes, formatUsd, type Output } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream events [--limit N] [--event name]` (admin): the latest system notifications, newest first. */
export async function eventsCommand(ctx: CommandContext): Promise<number> {
  const only = ctx.args.event;
  if (only !== undefined && !(systemEventNames as readonly string[]).includes(only)) {
    throw new UsageError(`--event must be one of ${systemEventNames.join(', ')}, got "${only}"`);
  }
  const events = await ctx.client.systemEvents(
    { limit: ctx.args.limit ?? 20, ...(only !== undefined ? { event: only as SystemEventName } : {}) },
    { signal: ctx.signal },
  );
  if (ctx.args.json) {
    ctx.out.value({ events });
    return exitCodes.ok;
  }
  if (events.length === 0) {
    ctx.out.line(only === undefined ? 'No system event yet.' : `No ${only} event yet.`);
    return exitCodes.ok;
  }
  const width = Math.max(...events.map((e) => e.event.length));
  for (const entry of events) ctx.out.line(`${String(entry.data.timestamp ?? '')}  ${entry.event.padEnd(width)}  ${describeEvent(entry, ctx.out)}`);
  return exitCodes.ok;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const amount = (v: unknown): string => (typeof v === 'number' ? formatUsd(v) : text(v));

/** What happened, in one line; the api has checked every entry against its contract. */
function describeEvent(entry: SystemEventEntry, out: Output): string {
  const d = entry.data;
  switch (entry.event) {
    case 'alert_started':
    case 'alert_resolved':
      return entry.event === 'alert_started' ? out.red(text(d.alert)) : text(d.alert);
    case 'kill_switch_changed': {
      const by = `by ${text(d.changedBy)}${d.auto === true ? ' (automatic)' : ''}`;
      return `${d.enabled === true ? out.red('ON') : 'off'} ${by}${typeof d.reason === 'string' ? `: ${d.reason}` : ''}`;
    }
    case 'budget_warning':
      return `${amount(d.spent)} of ${amount(d.limit)} spent in ${text(d.period)} (${typeof d.ratio === 'number' ? (d.ratio * 100).toFixed(1) : '?'}%)`;
    case 'circuit_breaker_state':
      return `${text(d.breaker)} on ${text(d.worker)}: ${text(d.from)} -> ${d.to === 'closed' ? 'closed' : out.red(text(d.to))} (${text(d.failures)} failures)`;
  }
}
