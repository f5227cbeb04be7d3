import { BudgetLimitError, JobstreamError, RateLimitError, UnauthorizedError, ValidationError, type ErrorDetail, type JobPayloadInput, type JobTypeName } from '@jobstream/client';
import { checkPayloadForm, initialFormValues, jobTypeNames, jobTypes, payloadFormFields, type FormValues, type PayloadFormField } from '@jobstream/contracts';
import { useMemo, useRef, useState } from 'preact/hooks';
import { PushOffer } from '../notify/push-offer.js';
import type { Session } from '../session.js';
import { shortId } from '../ui/format.js';
import { Isolated } from '../ui/isolated.js';
import { useStore } from '../ui/store.js';
import { FormField } from './form-field.js';

/**
 * A refusal's `detail` is the api's message (it may quote what others wrote, such as the
 * kill-switch's reason), shown isolated; `after` is the page's own words after it. `paused`: the
 * kill-switch refused it, so the box goes once the page learns the switch is off.
 */
type Outcome =
  | { kind: 'idle' }
  | { kind: 'submitted'; text: string }
  | { kind: 'refused'; title: string; detail: string; after: string; paused: boolean };

/** Every job type's form fields, read once from the payload schemas. */
function formsOf(): Record<JobTypeName, PayloadFormField[]> {
  return Object.fromEntries(jobTypeNames.map((name) => [name, payloadFormFields(jobTypes[name])])) as Record<JobTypeName, PayloadFormField[]>;
}

/** Payload field errors by field, from the api's detail paths (`payload.durationMs` → `durationMs`, `payload.result.a` → `result`). */
function fieldErrors(details: readonly ErrorDetail[] | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const detail of details ?? []) {
    const [root, field] = detail.path.split('.');
    if (root === 'payload' && field !== undefined) errors[field] ??= detail.message;
  }
  return errors;
}

function refusal(err: unknown): Outcome {
  if (err instanceof BudgetLimitError) {
    return { kind: 'refused', title: 'New jobs are paused', detail: err.message, after: '. Jobs already queued keep running; try again later.', paused: true };
  }
  if (err instanceof RateLimitError) {
    const wait = err.retryAfterMs !== undefined ? ` Try again in ${Math.ceil(err.retryAfterMs / 1_000)} s.` : '';
    return { kind: 'refused', title: 'Too many submissions', detail: err.message, after: `.${wait}`, paused: false };
  }
  if (err instanceof ValidationError) return { kind: 'refused', title: 'Check the highlighted fields', detail: err.message, after: '', paused: false };
  if (err instanceof JobstreamError) return { kind: 'refused', title: 'The job was not submitted', detail: err.message, after: ` (${err.code})`, paused: false };
  return { kind: 'refused', title: 'The job was not submitted', detail: err instanceof Error ? err.message : String(err), after: '', paused: false };
}

/**
 * Submits a job of any type through the SDK: a picker lists every job type, and each type's fields,
 * limits and messages come from its payload schema (checked in the page before sending). The api's
 * refusals are shown in words, its field errors next to their fields.
 */
export function SubmitForm({ session }: { session: Session }) {
  const forms = useMemo(formsOf, []);
  const [type, setType] = useState<JobTypeName>(jobTypeNames[0]);
  const [values, setValues] = useState<Record<string, FormValues>>(() => Object.fromEntries(jobTypeNames.map((name) => [name, initialFormValues(forms[name])])));
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const form = useRef<HTMLFormElement>(null);
  const paused = useStore(session.paused);
  const fields = forms[type];
  const current = values[type] ?? {};

  const showErrors = (byField: Record<string, string>): void => {
    setErrors(byField);
    const first = fields.find((field) => byField[field.name] !== undefined);
    if (first) form.current?.querySelector<HTMLElement>(`#payload-${first.name}`)?.focus();
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    setOutcome({ kind: 'idle' });
    const checked = checkPayloadForm(jobTypes[type], fields, current);
    if (Object.keys(checked.errors).length > 0) {
      showErrors(checked.errors);
      setOutcome({ kind: 'refused', title: 'Check the highlighted fields', detail: '', after: '', paused: false });
      return;
    }
    setBusy(true);
    try {
      // One key per press: a retried request (a flaky network) cannot enqueue the job twice.
      const idempotencyKey = crypto.randomUUID();
      // Checked against the type's payload schema just above.
      const answer = await session.client.enqueue(type, checked.payload as JobPayloadInput<JobTypeName>, { idempotencyKey });
      session.jobs.submitted(answer);
      session.paused.set(false);
      setOutcome({ kind: 'submitted', text: `Submitted ${answer.type} job ${shortId(answer.jobId)}.` });
    } catch (err) {
      if (err instanceof UnauthorizedError) session.unauthorized(err);
      if (err instanceof ValidationError) showErrors(fieldErrors(err.details));
      const refused = refusal(err);
      if (refused.kind === 'refused' && refused.paused) session.paused.set(true);
      setOutcome(refused);
    } finally {
      setBusy(false);
    }
  };

  const setValue = (name: string, value: string | boolean): void => setValues({ ...values, [type]: { ...current, [name]: value } });

  return (
    <section class="card" aria-labelledby="submit-title">
      <h2 id="submit-title">New job</h2>
      <form ref={form} onSubmit={(e) => void submit(e)} noValidate>
        <fieldset class="segmented">
          <legend>Job type</legend>
          {jobTypeNames.map((name) => (
            <label key={name} class={type === name ? 'segment selected' : 'segment'}>
              <input
                type="radio"
                name="type"
                value={name}
                checked={type === name}
                onChange={() => {
                  setType(name);
                  setErrors({});
                }}
              />
              <span>{name}</span>
            </label>
          ))}
        </fieldset>
        <p class="hint" data-testid="job-type-description">
          {jobTypes[type].description}
        </p>
        <div class="field-grid">
          {fields
            .filter((field) => field.kind !== 'textarea' && field.kind !== 'json')
            .map((field) => (
              <FormField key={`${type}.${field.name}`} field={field} value={current[field.name] ?? field.initial} error={errors[field.name]} onValue={setValue} />
            ))}
        </div>
        {fields
          .filter((field) => field.kind === 'textarea' || field.kind === 'json')
          .map((field) => (
            <FormField key={`${type}.${field.name}`} field={field} value={current[field.name] ?? field.initial} error={errors[field.name]} onValue={setValue} />
          ))}
        <div class="button-row">
          <button type="submit" class="button primary" disabled={busy} aria-disabled={busy}>
            {busy ? 'Submitting…' : 'Submit job'}
          </button>
        </div>
        <div aria-live="polite" class="form-outcome">
          {outcome.kind === 'submitted' && <p class="notice success">{outcome.text}</p>}
          {outcome.kind === 'submitted' && <PushOffer model={session.webPush} />}
        </div>
        {outcome.kind === 'refused' && !(outcome.paused && !paused) && (
          <div class="notice error" role="alert" data-testid="submit-error">
            <strong>{outcome.title}</strong>
            {(outcome.detail !== '' || outcome.after !== '') && (
              <p>
                <Isolated text={outcome.detail} />
                {outcome.after}
              </p>
            )}
          </div>
        )}
      </form>
    </section>
  );
}
