import { z } from 'zod';
import { jobTypes } from '../job-types/index.js';

/** A job type's `result` schema, when its definition declares one. */
export function jobResultSchema(definition: object): z.ZodType | undefined {
  const result = (definition as { result?: unknown }).result;
  return result instanceof z.ZodType ? result : undefined;
}

/** What a job's `result` may be, from the result schemas the job types declare; undefined while none declares one. */
export function jobResultsSchema(definitions: Record<string, object> = jobTypes): z.ZodType | undefined {
  const results = Object.entries(definitions).flatMap(([name, definition]) => jobResultSchema(definition)?.meta({ title: `${name} result` }) ?? []);
  const [first, ...rest] = results;
  if (!first) return undefined;
  return rest.length === 0 ? first : z.union([first, ...rest]);
}

/** `schema` (a job snapshot or a `completed` event) with its `result` described by the job types' result schemas. */
export function withJobResults(schema: z.ZodObject, results: z.ZodType | undefined = jobResultsSchema()): z.ZodObject {
  return results ? schema.extend({ result: results.optional() }) : schema;
}
