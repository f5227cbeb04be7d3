import type { z } from 'zod';

/** How a failed attempt is retried: total attempts, and the first delay of an exponential backoff. */
export interface RetryPolicy {
  /** Total attempts including the first one. */
  attempts: number;
  /** Delay before the second attempt; each later one doubles it. */
  backoffMs: number;
}

/**
 * The part of a job type that the api (validation, enqueue options), the worker (its processor's
 * input and output), the SDK (typed payloads and results) and the dashboard (its submit form) need.
 */
export interface JobTypeDefinition<Name extends string = string, Payload extends z.ZodType = z.ZodType, Result extends z.ZodType = z.ZodType> {
  name: Name;
  description: string;
  /**
   * What a submission carries, checked by the api and again by the worker. Each field's `.meta()`
   * `title`, `description` and `examples` label the dashboard's submit form.
   */
  payload: Payload;
  /** What the processor returns: the worker checks it before completing the job, the SDK types it. */
  result: Result;
  retry: RetryPolicy;
}

/** Declares a job type; a helper only so that the literal name and the schema types are kept. */
export function defineJobType<Name extends string, Payload extends z.ZodType, Result extends z.ZodType>(
  def: JobTypeDefinition<Name, Payload, Result>,
): JobTypeDefinition<Name, Payload, Result> {
  return def;
}
