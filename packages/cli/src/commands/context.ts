import type { JobstreamClient } from '@jobstream/client';
import type { ParsedArgs } from '../args.js';
import type { Output } from '../output.js';

/** What every command gets: its arguments, a client for the api, the output, and Ctrl-C. */
export interface CommandContext {
  args: ParsedArgs;
  client: JobstreamClient;
  out: Output;
  /** Aborted on SIGINT: a watch closes and the command exits 130. */
  signal: AbortSignal;
}
