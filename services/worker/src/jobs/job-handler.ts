import type { JobTypeDefinition } from '@jobstream/contracts';
import type { Logger } from '@jobstream/runtime';
import type { z } from 'zod';

/** What a processor gets besides its payload. */
export interface JobContext {
  jobId: string;
  /** 1 for the first attempt. */
  attempt: number;
  logger: Logger;
  /** Reports progress (0-100, or an object); each call becomes a `progress` event. */
  reportProgress(progress: number | Record<string, unknown>): Promise<void>;
  /**
   * Aborted when the job is cancelled (its owner or an admin asked) or when the worker shuts down
   * past its grace period. A handler stops its work and throws: the worker tells the two apart.
   */
  signal: AbortSignal;
}

/**
 * A job type's processor, bound to its definition from the contracts package: the payload's
 * schema types its input, the result's schema its output (which the worker checks again at run time).
 */
export interface JobHandler<Def extends JobTypeDefinition = JobTypeDefinition> {
  definition: Def;
  process(payload: z.output<Def['payload']>, ctx: JobContext): Promise<z.input<Def['result']>>;
}

/** Declares a handler; a helper only so that the payload and result types flow from the definition. */
export function defineJobHandler<Def extends JobTypeDefinition>(
  definition: Def,
  process: (payload: z.output<Def['payload']>, ctx: JobContext) => Promise<z.input<Def['result']>>,
): JobHandler<Def> {
  return { definition, process };
}
