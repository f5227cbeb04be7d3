import { exitCodes, formatDuration } from '../output.js';
import type { CommandContext } from './context.js';

/** `jobstream feed` (admin): how far the metrics service has read the live feed. */
export async function feedCommand(ctx: CommandContext): Promise<number> {
  const feed = await ctx.client.feedProgress({ signal: ctx.signal });
  if (ctx.args.json) {
    ctx.out.value(feed);
    return exitCodes.ok;
  }
  const out = ctx.out;
  out.line(`Live feed: newest entry ${feed.newestId === null ? '(none: the feed is empty)' : `${feed.newestId} (${feed.newestAt})`}`);
  out.line(`Metrics service: read up to ${feed.metricsCursor === null ? '(nothing yet: has it ever run?)' : `${feed.metricsCursor} (${feed.metricsCursorAt})`}`);
  if (feed.behindEntries === 0) out.line(out.green('  caught up'));
  else out.line(out.yellow(`  ${feed.behindEntries >= 10_000 ? 'at least 10000' : feed.behindEntries} entries behind, ${formatDuration(feed.behindMs)} of events`));
  return exitCodes.ok;
}
