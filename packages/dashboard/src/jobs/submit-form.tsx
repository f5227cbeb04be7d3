import { BudgetLimitError, JobstreamError, RateLimitError, UnauthorizedError, ValidationError, type ErrorDetail, type JobTypeName } from '@jobstream/client';
import { useRef, useState } from 'preact/hooks';
import { PushOffer } from '../notify/push-offer.js';
import type { Session } from '../session.js';
import { shortId } from '../ui/format.js';
import { Isolated } from '../ui/isolated.js';
import { useStore } from '../ui/store.js';

interface DemoFields {
  durationMs: string;
  steps: string;
  failAttempts: string;
}

interface FlashcardFields {
  subject: string;
  topic: string;
  content: string;
  count: string;
}

/**
 * A refusal's `detail` is the api's message (it may quote what others wrote, such as the
 * kill-switch's reason), shown isolated; `after` is the page's own words after it. `paused`: the
 * kill-switch refused it, so the box goes once the page learns the switch is off.
 */
type Outcome =
  | { kind: 'idle' }
  | { kind: 'submitted'; text: string }
  | { kind: 'refused'; title: string; detail: string; after: string; paused: boolean };

const SAMPLE_CONTENT =
  'Photosynthesis turns light energy into chemical energy. In the light reactions, chlorophyll absorbs light and splits water, releasing oxygen. The Calvin cycle then fixes carbon dioxide into sugars using ATP and NADPH.';

/** A number field's value; an empty field is sent as null so the api names it, rather than as 0. */
function numberOf(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** Field errors by the api's detail path (`payload.durationMs` → `durationMs`). */
function fieldErrors(details: readonly ErrorDetail[] | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const detail of details ?? []) {
    const field = detail.path.replace(/^payload\./, '');
    errors[field] ??= detail.message;
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

/** Submits a `demo.work` or `flashcards.generate` job through the SDK; the api's refusals are shown in words. */
export function SubmitForm({ session }: { session: Session }) {
  const [type, setType] = useState<JobTypeName>('demo.work');
  const [demo, setDemo] = useState<DemoFields>({ durationMs: '4000', steps: '4', failAttempts: '0' });
  const [cards, setCards] = useState<FlashcardFields>({ subject: 'Biology', topic: 'Photosynthesis', content: SAMPLE_CONTENT, count: '5' });
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const form = useRef<HTMLFormElement>(null);
  const paused = useStore(session.paused);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    setOutcome({ kind: 'idle' });
    try {
      // One key per press: a retried request (a flaky network) cannot enqueue the job twice.
      const idempotencyKey = crypto.randomUUID();
      const answer =
        type === 'demo.work'
          ? await session.client.enqueue(
              'demo.work',
              { durationMs: numberOf(demo.durationMs), steps: numberOf(demo.steps), failAttempts: numberOf(demo.failAttempts) },
              { idempotencyKey },
            )
          : await session.client.enqueue(
              'flashcards.generate',
              { subject: cards.subject, topic: cards.topic, content: cards.content, count: numberOf(cards.count) },
              { idempotencyKey },
            );
      session.jobs.submitted(answer);
      session.paused.set(false);
      setOutcome({ kind: 'submitted', text: `Submitted ${answer.type} job ${shortId(answer.jobId)}.` });
    } catch (err) {
      if (err instanceof UnauthorizedError) session.unauthorized(err);
      if (err instanceof ValidationError) {
        const byField = fieldErrors(err.details);
        setErrors(byField);
        const first = Object.keys(byField)[0];
        if (first !== undefined) form.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
      }
      const refused = refusal(err);
      if (refused.kind === 'refused' && refused.paused) session.paused.set(true);
      setOutcome(refused);
    } finally {
      setBusy(false);
    }
  };

  const numberField = (name: keyof DemoFields, label: string, min: number, max: number, hint?: string) => (
    <div class="field">
      <label for={`demo-${name}`}>{label}</label>
      <input
        id={`demo-${name}`}
        name={name}
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        step={1}
        required
        value={demo[name]}
        aria-invalid={errors[name] !== undefined}
        aria-describedby={[hint ? `demo-${name}-hint` : '', errors[name] ? `demo-${name}-error` : ''].filter(Boolean).join(' ') || undefined}
        onInput={(e) => setDemo({ ...demo, [name]: (e.target as HTMLInputElement).value })}
      />
      {hint !== undefined && (
        <p id={`demo-${name}-hint`} class="hint">
          {hint}
        </p>
      )}
      {errors[name] !== undefined && (
        <p id={`demo-${name}-error`} class="field-error">
          <Isolated text={errors[name]} />
        </p>
      )}
    </div>
  );

  const textField = (name: keyof FlashcardFields, label: string, multiline = false) => (
    <div class="field">
      <label for={`cards-${name}`}>{label}</label>
      {multiline ? (
        <textarea
          id={`cards-${name}`}
          name={name}
          rows={5}
          required
          maxLength={50_000}
          value={cards[name]}
          aria-invalid={errors[name] !== undefined}
          aria-describedby={errors[name] ? `cards-${name}-error` : undefined}
          onInput={(e) => setCards({ ...cards, [name]: (e.target as HTMLTextAreaElement).value })}
        />
      ) : (
        <input
          id={`cards-${name}`}
          name={name}
          type={name === 'count' ? 'number' : 'text'}
          {...(name === 'count' ? { min: 1, max: 50, step: 1, inputMode: 'numeric' as const } : { maxLength: 200 })}
          required
          value={cards[name]}
          aria-invalid={errors[name] !== undefined}
          aria-describedby={errors[name] ? `cards-${name}-error` : undefined}
          onInput={(e) => setCards({ ...cards, [name]: (e.target as HTMLInputElement).value })}
        />
      )}
      {errors[name] !== undefined && (
        <p id={`cards-${name}-error`} class="field-error">
          <Isolated text={errors[name]} />
        </p>
      )}
    </div>
  );

  return (
    <section class="card" aria-labelledby="submit-title">
      <h2 id="submit-title">New job</h2>
      <form ref={form} onSubmit={(e) => void submit(e)} noValidate>
        <fieldset class="segmented">
          <legend>Job type</legend>
          {(['demo.work', 'flashcards.generate'] as const).map((name) => (
            <label key={name} class={type === name ? 'segment selected' : 'segment'}>
              <input type="radio" name="type" value={name} checked={type === name} onChange={() => setType(name)} />
              <span>{name}</span>
            </label>
          ))}
        </fieldset>
        {type === 'demo.work' ? (
          <div class="field-grid">
            {numberField('durationMs', 'Duration (ms)', 0, 600_000)}
            {numberField('steps', 'Progress steps', 0, 1_000)}
            {numberField('failAttempts', 'Failing attempts', 0, 10, 'The first N attempts fail on purpose; a job has 3.')}
          </div>
        ) : (
          <>
            <div class="field-grid">
              {textField('subject', 'Subject')}
              {textField('topic', 'Topic')}
              {textField('count', 'Number of cards')}
            </div>
            {textField('content', 'Study content', true)}
          </>
        )}
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
            <p>
              <Isolated text={outcome.detail} />
              {outcome.after}
            </p>
          </div>
        )}
      </form>
    </section>
  );
}
