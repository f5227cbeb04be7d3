import type { z } from 'zod';

/** How a failed attempt is retried: total attempts, and the first delay of an exponential backoff. */
export interface RetryPolicy {
  /** Total attempts including the first one. */
  attempts: number;
  /** Delay before the second attempt; each later one doubles it. */
  backoffMs: number;
}

/** The part of a job type that both the api (validation, enqueue options) and the worker need. */
export interface JobTypeDefinition<Name extends string = string, Payload extends z.ZodType = z.ZodType> {
  name: Name;
  description: string;
  payload: Payload;
  retry: RetryPolicy;
}

/** Declares a job type; a helper only so that the literal name type is kept. */
export function defineJobType<Name extends string, Payload extends z.ZodType>(
  def: JobTypeDefinition<Name, Payload>,
): JobTypeDefinition<Name, Payload> {
  return def;
}
