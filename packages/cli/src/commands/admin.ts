import type { AdminJobRow, AdminJobState } from '@jobstream/client';
import { UsageError } from '../args.js';
import { exitCodes } from '../output.js';
import type { CommandContext } from './context.js';

const BROWSE_STATES: readonly AdminJobState[] = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'cancelled'];
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** `90`, `90s`, `30m`, `1h`, `7d`, `2w` as seconds; a usage error for anything else. */
export function parseAge(text: string): number {
  const match = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`--older-than must be a whole number with an optional unit s, m, h, d or w (e.g. 1h, 7d), got "${text}"`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
}

/** `jobstream admin jobs --state failed` and `jobstream admin clean --state completed --older-than 1h` (admin). */
export async function adminCommand(ctx: CommandContext): Promise<number> {
  const [what, ...extra] = ctx.args.positionals;
  if (what !== 'jobs' && what !== 'clean') throw new UsageError('admin needs "jobs" or "clean", e.g. jobstream admin jobs --state failed');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return what === 'jobs' ? adminJobsCommand(ctx) : adminCleanCommand(ctx);
}

/** One row: id, type, owner, state, when it got there, attempts and the failure reason. */
function rowCells(job: AdminJobRow): string[] {
  const at = job.finishedAt ?? job.startedAt ?? job.createdAt;
  const reason = job.cancelledBy ? `cancelled by ${job.cancelledBy === 'admin' ? 'an admin' : 'its owner'}` : (job.failedReason ?? '');
  return [job.jobId, job.type, job.owner ?? '-', job.state, at, `${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'}`, reason.replace(/\s+/g, ' ').slice(0, 120)];
}

async function adminJobsCommand(ctx: CommandContext): Promise<number> {
  const { state, limit, cursor, olderThan } = ctx.args;
  if (olderThan !== undefined) throw new UsageError('--older-than applies to "admin clean", not to "admin jobs"');
  if (!state || !(BROWSE_STATES as readonly string[]).includes(state)) throw new UsageError(`admin jobs needs --state ${BROWSE_STATES.join('|')}`);
  if (limit !== undefined && limit > 100) throw new UsageError(`--limit must be a whole number from 1 to 100, got "${limit}"`);
  const page = await ctx.client.listJobsByState({ state: state as AdminJobState, ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}), signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(page);
    return exitCodes.ok;
  }
  if (page.jobs.length === 0) {
    ctx.out.line(`No ${state} jobs.`);
    return exitCodes.ok;
  }
  const rows = page.jobs.map(rowCells);
  const widths = rows[0]?.map((_cell, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows) ctx.out.line(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  if (page.nextCursor !== null) ctx.out.line(`older: jobstream admin jobs --state ${state}${limit !== undefined ? ` --limit ${limit}` : ''} --cursor ${page.nextCursor}`);
  return exitCodes.ok;
}

async function adminCleanCommand(ctx: CommandContext): Promise<number> {
  const { state, limit, cursor, olderThan } = ctx.args;
  if (cursor !== undefined) throw new UsageError('--cursor applies to "admin jobs", not to "admin clean"');
  if (state !== 'completed' && state !== 'failed') throw new UsageError('admin clean needs --state completed|failed');
  if (olderThan === undefined) throw new UsageError('admin clean needs --older-than <age> (e.g. 1h, 7d; 0 for every finished job)');
  const olderThanSeconds = parseAge(olderThan);
  const answer = await ctx.client.cleanJobs({ state, olderThanSeconds, ...(limit !== undefined ? { limit } : {}) }, { signal: ctx.signal });
  if (ctx.args.json) ctx.out.value(answer);
  else ctx.out.line(`Removed ${answer.removed} ${state} job${answer.removed === 1 ? '' : 's'} that finished more than ${olderThan} ago, with their history.`);
  return exitCodes.ok;
}
