import { zodIssuesToDetails, type JobTypeDefinition } from '@jobstream/contracts';
import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';

/** `path: message; ...` of a failed parse, paths under `root` (`payload.count`, `result.flashcards.0.back`). */
function issuesText(error: z.ZodError, root: string): string {
  return zodIssuesToDetails(error, [root], root)
    .map((d) => `${d.path}: ${d.message}`)
    .join('; ');
}

/**
 * A processor returned something its job type's result schema refuses. Unrecoverable: the same
 * payload would most likely come back in the same wrong shape, and a retry would pay for the work again.
 */
export class JobResultInvalidError extends UnrecoverableError {
  constructor(type: string, details: string) {
    super(`invalid result from the ${type} processor: ${details}`);
    this.name = 'JobResultInvalidError';
  }
}

/** The payload as the processor gets it (defaults applied); a payload the schema refuses fails the job for good. */
export function parsePayload<Def extends JobTypeDefinition>(definition: Def, payload: unknown): z.output<Def['payload']> {
  const parsed = definition.payload.safeParse(payload);
  if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${issuesText(parsed.error, 'payload')}`);
  return parsed.data as z.output<Def['payload']>;
}

/**
 * Throws JobResultInvalidError unless `result` fits the job type's result schema. Only a check:
 * the job completes with the processor's own value, since a schema's output may drop keys the
 * result legitimately carries (`z.json()` leaves out a `__proto__` key).
 */
export function checkResult(definition: JobTypeDefinition, result: unknown): void {
  const parsed = definition.result.safeParse(result);
  if (!parsed.success) throw new JobResultInvalidError(definition.name, issuesText(parsed.error, 'result'));
}
