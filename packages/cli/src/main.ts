#!/usr/bin/env node
import { createClient } from '@jobstream/client';
import { parseCommandLine, UsageError, type ParsedArgs } from './args.js';
import { adminCommand } from './commands/admin.js';
import { alertsCommand } from './commands/alerts.js';
import { breakdownCommand } from './commands/breakdown.js';
import { budgetCommand } from './commands/budget.js';
import type { CommandContext } from './commands/context.js';
import { enqueueCommand } from './commands/enqueue.js';
import { eventsCommand } from './commands/events.js';
import { feedCommand } from './commands/feed.js';
import { jobCommand } from './commands/job.js';
import { cancelCommand, retryCommand } from './commands/job-control.js';
import { jobsCommand } from './commands/jobs.js';
import { killSwitchCommand } from './commands/kill-switch.js';
import { statsCommand } from './commands/stats.js';
import { watchCommand } from './commands/watch.js';
import { workersCommand } from './commands/workers.js';
import { exitCodes, Output, type Io } from './output.js';
import { usage } from './usage.js';

export interface MainOptions {
  env?: Record<string, string | undefined>;
  io?: Io;
  /** Aborting it interrupts the command (Ctrl-C). */
  signal?: AbortSignal;
}

/** Runs one command line; resolves with the exit code. Everything it needs is passed in. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const io = options.io ?? { stdout: process.stdout, stderr: process.stderr };
  const signal = options.signal ?? new AbortController().signal;
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv, env);
  } catch (err) {
    return new Output(io, argv.includes('--json'), env).fail(err, '');
  }
  const out = new Output(io, args.json, env);
  if (args.command === 'help') {
    io.stdout.write(usage);
    return exitCodes.ok;
  }
  try {
    const client = createClient({ baseUrl: args.url, ...(args.token ? { token: args.token } : {}) });
    const ctx: CommandContext = { args, client, out, signal };
    switch (args.command) {
      case 'enqueue':
        return await enqueueCommand(ctx);
      case 'watch': {
        const [jobId, ...extra] = args.positionals;
        if (!jobId) throw new UsageError('watch needs a job id: jobstream watch <jobId>');
        if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
        return await watchCommand(ctx, jobId);
      }
      case 'job':
        return await jobCommand(ctx);
      case 'jobs':
        if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
        return await jobsCommand(ctx);
      case 'cancel':
        return await cancelCommand(ctx);
      case 'retry':
        return await retryCommand(ctx);
      case 'admin':
        return await adminCommand(ctx);
      case 'alerts':
        return await alertsCommand(ctx);
      case 'budget':
        return await budgetCommand(ctx);
      case 'kill-switch':
        return await killSwitchCommand(ctx);
      case 'stats':
        return await statsCommand(ctx);
      case 'workers':
        if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
        return await workersCommand(ctx);
      case 'events':
        if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
        return await eventsCommand(ctx);
      case 'breakdown':
        return await breakdownCommand(ctx);
      case 'feed':
        if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
        return await feedCommand(ctx);
    }
  } catch (err) {
    if (signal.aborted) return exitCodes.interrupted;
    return out.fail(err, args.url);
  }
}

/** The `jobstream` bin: process arguments, environment, streams, Ctrl-C, exit code. */
export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  const interrupt = new AbortController();
  const onSigint = (): void => interrupt.abort();
  process.once('SIGINT', onSigint);
  // `jobstream jobs | head -1`: the reader has what it wanted and is gone, so there is nothing
  // left to do and nobody to tell; any other write error stays the crash it is.
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(exitCodes.ok);
  };
  process.stdout.on('error', onStdoutError);
  try {
    process.exitCode = await main(argv, { signal: interrupt.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

if (require.main === module) void run();
