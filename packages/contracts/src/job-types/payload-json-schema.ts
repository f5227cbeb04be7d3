import { z } from 'zod';
import type { JobTypeDefinition } from './define.js';

/**
 * The subset of a JSON Schema (draft 2020-12) that describes one payload field, as
 * `payloadJsonSchema` writes it: enough to render and label a form field.
 */
export interface PayloadFieldSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  title?: string;
  description?: string;
  examples?: unknown[];
}

/** A job type's payload as a JSON Schema object: its fields, and the ones a submission must name. */
export interface PayloadJsonSchema {
  properties: Record<string, PayloadFieldSchema>;
  /** Fields with neither a default nor `.optional()`. */
  required: string[];
}

/**
 * A job type's payload schema as JSON Schema, as a submitter writes it (`io: 'input'`: fields with
 * a default are not required). Fields JSON Schema cannot describe (`z.unknown()`) come out as `{}`.
 * Throws when the payload is not an object schema, which no job type may declare.
 */
export function payloadJsonSchema(definition: Pick<JobTypeDefinition, 'name' | 'payload'>): PayloadJsonSchema {
  const schema = z.toJSONSchema(definition.payload, { io: 'input', unrepresentable: 'any' }) as { type?: unknown; properties?: Record<string, PayloadFieldSchema>; required?: string[] };
  if (schema.type !== 'object' || schema.properties === undefined) throw new Error(`job type ${definition.name}: its payload schema must be an object`);
  return { properties: schema.properties, required: schema.required ?? [] };
}
