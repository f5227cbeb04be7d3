import { zodIssuesToDetails } from '../errors.js';
import type { JobTypeDefinition } from './define.js';
import { payloadJsonSchema, type PayloadFieldSchema } from './payload-json-schema.js';

/*
 * A job type's payload as a submit form's fields (the dashboard builds its form from them): which
 * control edits each field, and how the text a person typed becomes a payload, checked by the
 * same schema the api checks.
 */

/** How a payload field is edited: by the JSON Schema type of its zod schema. */
export type PayloadFieldKind = 'text' | 'textarea' | 'number' | 'select' | 'checkbox' | 'json';

/** One field of a job type's submit form, read from the type's payload schema. */
export interface PayloadFormField {
  name: string;
  /** The field's `.meta({ title })`, or its name. */
  label: string;
  /** The field's `.meta({ description })`. */
  hint: string | undefined;
  kind: PayloadFieldKind;
  /** Neither optional nor defaulted: an empty field is refused before the api sees it. */
  required: boolean;
  integer: boolean;
  min: number | undefined;
  max: number | undefined;
  maxLength: number | undefined;
  /** A select's values, in the schema's order. */
  options: readonly unknown[];
  /** What the field starts with: the schema's default, else its first example, else empty. */
  initial: string | boolean;
}

/** A form's values by field name: the text of an input, or a checkbox's state. */
export type FormValues = Record<string, string | boolean>;

/** Strings that may be longer than this get a text area. */
const SINGLE_LINE_MAX = 200;

function kindOf(schema: PayloadFieldSchema): PayloadFieldKind {
  if (schema.enum !== undefined) return 'select';
  switch (schema.type) {
    case 'string':
      return schema.maxLength !== undefined && schema.maxLength <= SINGLE_LINE_MAX ? 'text' : 'textarea';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'checkbox';
    default:
      // Any JSON (z.unknown(), objects, arrays, unions): typed as JSON text.
      return 'json';
  }
}

function initialOf(schema: PayloadFieldSchema, kind: PayloadFieldKind): string | boolean {
  const start = schema.default !== undefined ? schema.default : schema.examples?.[0];
  if (kind === 'checkbox') return start === true;
  if (start === undefined) return '';
  if (kind === 'select') return String(Math.max(schema.enum?.indexOf(start) ?? -1, 0));
  if (kind === 'json') return JSON.stringify(start);
  return String(start);
}

/** The form fields of a job type, in the order its payload schema declares them. */
export function payloadFormFields(definition: Pick<JobTypeDefinition, 'name' | 'payload'>): PayloadFormField[] {
  const { properties, required } = payloadJsonSchema(definition);
  return Object.entries(properties).map(([name, schema]) => {
    const kind = kindOf(schema);
    return {
      name,
      label: schema.title ?? name,
      hint: schema.description,
      kind,
      required: required.includes(name),
      integer: schema.type === 'integer',
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      maxLength: schema.maxLength,
      options: schema.enum ?? [],
      initial: initialOf(schema, kind),
    };
  });
}

/** Each field's starting value. */
export function initialFormValues(fields: readonly PayloadFormField[]): FormValues {
  return Object.fromEntries(fields.map((field) => [field.name, field.initial]));
}

/** What a submission of these values sends, or the fields whose text cannot become a value. */
function collect(fields: readonly PayloadFormField[], values: FormValues): { payload: Record<string, unknown>; errors: Record<string, string> } {
  const payload: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.name] ?? field.initial;
    if (typeof value === 'boolean') {
      payload[field.name] = value;
      continue;
    }
    // An empty field is left out: a default applies, or the schema names it as missing.
    if (value.trim() === '' && field.kind !== 'text' && field.kind !== 'textarea') {
      if (field.required) errors[field.name] = 'Required';
      continue;
    }
    if (value === '' && !field.required) continue;
    if (field.kind === 'number') payload[field.name] = Number(value);
    else if (field.kind === 'select') payload[field.name] = field.options[Number(value)];
    else if (field.kind === 'json') {
      try {
        payload[field.name] = JSON.parse(value) as unknown;
      } catch {
        errors[field.name] = 'Not valid JSON';
      }
    } else payload[field.name] = value;
  }
  return { payload, errors };
}

/**
 * The payload of a submission, checked against the job type's payload schema in the page: `errors`
 * holds the schema's messages by field (the ones the api would answer with), empty when it passes.
 */
export function checkPayloadForm(
  definition: Pick<JobTypeDefinition, 'name' | 'payload'>,
  fields: readonly PayloadFormField[],
  values: FormValues,
): { payload: Record<string, unknown>; errors: Record<string, string> } {
  const { payload, errors } = collect(fields, values);
  const parsed = definition.payload.safeParse(payload);
  if (!parsed.success) {
    // By the top-level field: a JSON field's nested issue (`result.a.b`) shows at `result`.
    for (const detail of zodIssuesToDetails(parsed.error)) errors[detail.path.split('.')[0] ?? detail.path] ??= detail.message;
  }
  return { payload, errors };
}
