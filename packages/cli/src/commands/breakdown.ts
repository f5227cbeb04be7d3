import { UsageError } from '../args.js';
import { exitCodes } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream breakdown waiting|failed [--limit N]` (admin): who and what is behind a backlog or a failure wave. */
export async function breakdownCommand(ctx: CommandContext): Promise<number> {
  const [state, ...extra] = ctx.args.positionals;
  if (state !== 'waiting' && state !== 'failed') throw new UsageError('breakdown needs "waiting" or "failed", e.g. jobstream breakdown failed --limit 100');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const answer = await ctx.client.queueBreakdown(state, ctx.args.limit ?? 100, { signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(answer);
    return exitCodes.ok;
  }
  const which = state === 'waiting' ? 'oldest' : 'newest';
  if (answer.jobs === 0) {
    ctx.out.line(`No ${state} jobs.`);
    return exitCodes.ok;
  }
  ctx.out.line(`The ${which} ${answer.jobs} ${state} job${answer.jobs === 1 ? '' : 's'}`);
  const table = (title: string, rows: { name: string; jobs: number }[]): void => {
    if (rows.length === 0) return;
    ctx.out.line(`by ${title}:`);
    const width = Math.max(...rows.map((row) => String(row.jobs).length));
    for (const row of rows) ctx.out.line(`  ${String(row.jobs).padStart(width)}  ${row.name}`);
  };
  table('owner', answer.byOwner.map((row) => ({ name: row.owner, jobs: row.jobs })));
  table('type', answer.byType.map((row) => ({ name: row.type, jobs: row.jobs })));
  table('error', answer.byError.map((row) => ({ name: `${row.error}\n${' '.repeat(String(row.jobs).length)}     newest: jobstream job ${row.newestJobId}`, jobs: row.jobs })));
  return exitCodes.ok;
}
