import type { JobPayloadInput, JobTypeName } from '@jobstream/client';
import { UsageError } from '../args.js';
import { exitCodes } from '../output.js';
import type { CommandContext } from './context.js';
import { watchCommand } from './watch.js';

/** `jobstream enqueue <type> --payload '<json>' [--idempotency-key k] [--watch]`. */
export async function enqueueCommand(ctx: CommandContext): Promise<number> {
  const [type, ...extra] = ctx.args.positionals;
  if (!type) throw new UsageError('enqueue needs a job type, e.g. jobstream enqueue demo.work --payload \'{"durationMs":2000}\'');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (the payload goes in --payload)`);
  let payload: unknown;
  try {
    payload = JSON.parse(ctx.args.payload ?? '{}');
  } catch (err) {
    throw new UsageError(`--payload is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new UsageError('--payload must be a JSON object');

  // The type comes from the command line, so the compiler cannot check it: the api validates
  // type and payload and answers VALIDATION_FAILED naming the field.
  const answer = await ctx.client.enqueue(type as JobTypeName, payload as JobPayloadInput<JobTypeName>, {
    ...(ctx.args.idempotencyKey !== undefined ? { idempotencyKey: ctx.args.idempotencyKey } : {}),
    signal: ctx.signal,
  });
  if (ctx.args.json) ctx.out.value(answer);
  else ctx.out.line(`Enqueued ${answer.type} job ${answer.jobId} (${answer.state})`);
  if (!ctx.args.watch) return exitCodes.ok;
  return watchCommand(ctx, answer.jobId);
}
