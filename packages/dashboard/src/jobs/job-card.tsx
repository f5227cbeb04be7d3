import type { JobState } from '@jobstream/contracts';
import { isolated, withoutBidiControls } from '../ui/bidi.js';
import { formatClock, formatDuration, msBetween, prettyJson, shortId } from '../ui/format.js';
import { Isolated } from '../ui/isolated.js';
import type { JobActions } from './job-actions.js';
import { isFinished, progressText, type JobView } from './job-view.js';

/** States a job can be cancelled in: it has not finished. */
const CANCELLABLE: ReadonlySet<JobState> = new Set(['waiting', 'prioritized', 'delayed', 'active']);

const STATE_LABELS: Record<JobState, string> = {
  waiting: 'Waiting',
  delayed: 'Retrying soon',
  prioritized: 'Waiting',
  active: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  'waiting-children': 'Waiting',
  unknown: 'Loading',
};

/** How long the job ran (finished), has been running (active) or has waited (queued). */
function durationText(job: JobView, now: number): string {
  if (job.state === 'completed' || job.state === 'failed') {
    const ms = job.durationMs ?? msBetween(job.startedAt, job.finishedAt);
    return ms !== undefined ? `took ${formatDuration(ms)}` : '';
  }
  if (job.state === 'active') {
    const ms = msBetween(job.startedAt, now);
    return ms !== undefined ? `running ${formatDuration(ms)}` : 'running';
  }
  if (job.state === 'delayed') return job.delayedUntil !== undefined ? `next attempt at ${formatClock(job.delayedUntil)}` : 'next attempt soon';
  const waited = msBetween(job.createdAt, now);
  return waited !== undefined && job.state !== 'unknown' ? `queued ${formatDuration(waited)}` : '';
}

interface FlashcardsResult {
  flashcards: { front: string; back: string }[];
  provider?: string;
}

function isFlashcards(value: unknown): value is FlashcardsResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { flashcards?: unknown }).flashcards) &&
    (value as { flashcards: unknown[] }).flashcards.every((c) => typeof c === 'object' && c !== null && 'front' in c && 'back' in c)
  );
}

function Result({ value }: { value: unknown }) {
  if (isFlashcards(value)) {
    return (
      <ol class="flashcards">
        {value.flashcards.map((card, i) => (
          <li key={i}>
            <strong>
              <Isolated text={String(card.front)} />
            </strong>
            <span>
              <Isolated text={String(card.back)} />
            </span>
          </li>
        ))}
      </ol>
    );
  }
  return (
    <pre class="result">
      <Isolated text={prettyJson(value)} />
    </pre>
  );
}

/** Cancel while the job has not finished, Retry once it failed (a cancelled job too); the api's refusal below. */
function Actions({ job, actions }: { job: JobView; actions: JobActions }) {
  const name = `${withoutBidiControls(job.type)} ${shortId(job.jobId)}`;
  return (
    <>
      {(CANCELLABLE.has(job.state) || job.state === 'failed') && (
        <div class="job-actions">
          {CANCELLABLE.has(job.state) && (
            <button type="button" class="button ghost small" aria-label={`Cancel ${name}`} disabled={job.action === 'cancel'} onClick={() => void actions.cancel(job.jobId)}>
              {job.action === 'cancel' ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
          {job.state === 'failed' && (
            <button type="button" class="button ghost small" aria-label={`Retry ${name}`} disabled={job.action === 'retry'} onClick={() => void actions.retry(job.jobId)}>
              {job.action === 'retry' ? 'Retrying…' : 'Retry'}
            </button>
          )}
        </div>
      )}
      {job.actionError !== undefined && (
        <p class="notice error small" role="alert" data-testid="job-action-error">
          <Isolated text={job.actionError} />
        </p>
      )}
    </>
  );
}

/** One job: state, progress bar, duration, result or error, its actions, and the events this tab received. */
export function JobCard({ job, now, actions }: { job: JobView; now: number; actions: JobActions }) {
  const titleId = `job-${job.jobId}-title`;
  const percent = typeof job.progress === 'number' ? Math.min(100, Math.max(0, job.progress)) : undefined;
  const finished = isFinished(job);
  const cancelled = job.cancelledBy !== undefined;
  return (
    <li class="job" data-state={job.state} data-outcome={cancelled ? 'cancelled' : undefined} data-job-id={job.jobId} aria-labelledby={titleId} aria-busy={job.loading}>
      <div class="job-head">
        <h3 id={titleId} class="job-title">
          <Isolated class="job-type" text={job.type} />{' '}
          <code class="job-id" title={isolated(job.jobId)}>
            <Isolated text={shortId(job.jobId)} />
          </code>
        </h3>
        <span class="state-badge" data-state={cancelled ? 'cancelled' : job.state}>
          {cancelled ? 'Cancelled' : STATE_LABELS[job.state]}
        </span>
      </div>
      <div
        class="progress"
        role="progressbar"
        aria-label={`Progress of ${withoutBidiControls(job.type)} ${shortId(job.jobId)}`}
        aria-valuemin={0}
        aria-valuemax={100}
        {...(percent !== undefined ? { 'aria-valuenow': Math.round(percent), 'aria-valuetext': `${Math.round(percent)}%` } : {})}
        data-indeterminate={percent === undefined && job.state === 'active'}
      >
        <div class="progress-fill" style={{ width: `${percent ?? (finished ? 100 : 0)}%` }} />
      </div>
      <div class="job-meta">
        <span class="job-progress">
          <Isolated text={progressText(job.progress) || '–'} />
        </span>
        <span class="job-duration">{durationText(job, now)}</span>
        <span>created {formatClock(job.createdAt)}</span>
        {job.attemptsMade > 1 && <span>{job.attemptsMade} attempts</span>}
      </div>
      {job.lastAttemptError !== undefined && !finished && (
        <p class="job-warning">
          Attempt {job.attemptsMade} failed: <Isolated text={job.lastAttemptError} />. {job.state === 'delayed' ? 'Retrying shortly.' : ''}
        </p>
      )}
      {job.state === 'failed' &&
        (cancelled ? (
          <p class="job-cancelled" data-testid="job-cancelled">
            {job.cancelledBy === 'admin' ? 'Cancelled by an admin.' : 'Cancelled by you.'}
          </p>
        ) : (
          <p class="job-error" data-testid="job-error">
            <strong>Error:</strong> <Isolated text={job.error ?? 'unknown'} />
          </p>
        ))}
      <Actions job={job} actions={actions} />
      {job.state === 'completed' && job.result !== undefined && (
        <details class="job-result">
          <summary>Result</summary>
          <Result value={job.result} />
        </details>
      )}
      {job.log.length > 0 && (
        <details class="job-log">
          <summary>Events ({job.log.length})</summary>
          <ol>
            {job.log.map((entry) => (
              <li key={entry.id} data-event={entry.event}>
                <time dateTime={entry.at}>{formatClock(entry.at)}</time>{' '}
                <span>
                  {entry.text}
                  {entry.detail !== undefined && (
                    <>
                      {' '}
                      <Isolated text={entry.detail} />
                    </>
                  )}
                  {entry.note}
                </span>
              </li>
            ))}
          </ol>
        </details>
      )}
    </li>
  );
}
