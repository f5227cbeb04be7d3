import { checkPayloadForm, defineJobType, flashcardsGenerate, initialFormValues, payloadFormFields } from '@jobstream/contracts';
import { z } from 'zod';

/** A job type declared here only: every kind of field the dashboard's form builds. */
const everyKind = defineJobType({
  name: 'test.every-kind',
  description: 'Every kind of payload field.',
  payload: z
    .object({
      title: z.string().trim().min(1).max(80).meta({ title: 'Title', examples: ['Weekly'] }),
      body: z.string().max(5_000).optional().meta({ description: 'Shown under the title.' }),
      ratio: z.number().min(0).max(1).default(0.5),
      copies: z.number().int().min(1).max(9),
      tone: z.enum(['neutral', 'formal']).default('formal'),
      urgent: z.boolean().default(false),
      extra: z.unknown().optional(),
    })
    .strict(),
  result: z.object({ ok: z.literal(true) }),
  retry: { attempts: 1, backoffMs: 0 },
});

describe("a job type's payload as submit form fields (the dashboard's form)", () => {
  it('gives each field the kind, label, hint, bounds and starting value its schema declares', () => {
    const fields = payloadFormFields(everyKind);
    expect(fields.map((f) => [f.name, f.kind, f.label, f.required])).toEqual([
      ['title', 'text', 'Title', true],
      ['body', 'textarea', 'body', false],
      ['ratio', 'number', 'ratio', false],
      ['copies', 'number', 'copies', true],
      ['tone', 'select', 'tone', false],
      ['urgent', 'checkbox', 'urgent', false],
      ['extra', 'json', 'extra', false],
    ]);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName.body?.hint).toBe('Shown under the title.');
    expect(byName.title).toMatchObject({ maxLength: 80 });
    expect(byName.ratio).toMatchObject({ min: 0, max: 1, integer: false });
    expect(byName.copies).toMatchObject({ min: 1, max: 9, integer: true });
    expect(byName.tone?.options).toEqual(['neutral', 'formal']);
    expect(initialFormValues(fields)).toEqual({ title: 'Weekly', body: '', ratio: '0.5', copies: '', tone: '1', urgent: false, extra: '' });
  });

  it('builds the payload from the values, leaving empty optional fields out', () => {
    const fields = payloadFormFields(everyKind);
    const values = { ...initialFormValues(fields), copies: '3', tone: '0', urgent: true, extra: '{"a":[1]}' };
    expect(checkPayloadForm(everyKind, fields, values)).toEqual({
      payload: { title: 'Weekly', ratio: 0.5, copies: 3, tone: 'neutral', urgent: true, extra: { a: [1] } },
      errors: {},
    });
  });

  it("names an empty required field, JSON that does not parse, and every value the schema refuses with the schema's message", () => {
    const fields = payloadFormFields(everyKind);
    const { errors } = checkPayloadForm(everyKind, fields, { ...initialFormValues(fields), title: '  ', ratio: '2', extra: '{oops' });
    expect(errors).toEqual({
      copies: 'Required',
      extra: 'Not valid JSON',
      title: 'Too small: expected string to have >=1 characters',
      ratio: 'Too big: expected number to be <=1',
    });
  });

  it('gives the same message for a flashcards count out of range as the api does', () => {
    const fields = payloadFormFields(flashcardsGenerate);
    const { errors } = checkPayloadForm(flashcardsGenerate, fields, { ...initialFormValues(fields), count: '80' });
    const api = flashcardsGenerate.payload.safeParse({ content: 'c', subject: 's', topic: 't', count: 80 });
    expect(errors).toEqual({ count: api.error?.issues[0]?.message });
    expect(errors.count).toBe('Too big: expected number to be <=50');
  });
});
