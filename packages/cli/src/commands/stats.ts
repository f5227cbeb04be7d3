import { exitCodes } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream stats`: job counts per state. */
export async function statsCommand(ctx: CommandContext): Promise<number> {
  const stats = await ctx.client.queueStats({ signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(stats);
    return exitCodes.ok;
  }
  ctx.out.line(`Queue ${stats.queue}`);
  const width = Math.max(...Object.keys(stats.counts).map((k) => k.length));
  for (const [state, count] of Object.entries(stats.counts)) ctx.out.line(`  ${state.padEnd(width)}  ${String(count).padStart(6)}`);
  return exitCodes.ok;
}
