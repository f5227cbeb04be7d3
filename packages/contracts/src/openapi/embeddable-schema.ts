import { z } from 'zod';

type JsonObject = Record<string, unknown>;

/** Local definitions of a generated schema (`$defs` in 2020-12, `definitions` in draft-07) and the refs that name them. */
const LOCAL_REF = /^#\/(?:\$defs|definitions)\//;

/** `value` with every ref into the schema's own definitions replaced by `{}`: any value. */
function withoutLocalRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLocalRefs);
  if (value === null || typeof value !== 'object') return value;
  const object = value as JsonObject;
  if (typeof object.$ref === 'string' && LOCAL_REF.test(object.$ref)) return {};
  return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, withoutLocalRefs(inner)]));
}

/**
 * The JSON Schema of `schema`, fit to sit anywhere inside a larger document (an OpenAPI or AsyncAPI
 * one): without its `$schema` dialect and without local definitions. zod emits definitions only for
 * a recursive schema (`z.json()`, a job type's "any JSON" result), whose refs point at the root of
 * the schema and would dangle inside the document; the recursion is described as `{}` (any value)
 * instead, which is what it allows.
 */
export function embeddableJsonSchema(schema: z.ZodType, options: { io?: 'input' | 'output'; target?: 'draft-7' | 'draft-2020-12' } = {}): JsonObject {
  const { $schema: _dialect, $defs: _defs, definitions: _definitions, ...rest } = z.toJSONSchema(schema, options) as JsonObject;
  return withoutLocalRefs(rest) as JsonObject;
}
