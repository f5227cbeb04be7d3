import type { JobState } from '@jobstream/contracts';
import { isolated, withoutBidiControls } from '../ui/bidi.js';
import { formatClock, formatDuration, msBetween, prettyJson, shortId } from '../ui/format.js';
import { Isolated } from '../ui/isolated.js';
import { isFinished, progressText, type JobView } from './job-view.js';

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

/** One job: state, progress bar, duration, result or error, and the events this tab received. */
export function JobCard({ job, now }: { job: JobView; now: number }) {
  const titleId = `job-${job.jobId}-title`;
  const percent = typeof job.progress === 'number' ? Math.min(100, Math.max(0, job.progress)) : undefined;
  const finished = isFinished(job);
  return (
    <li class="job" data-state={job.state} data-job-id={job.jobId} aria-labelledby={titleId} aria-busy={job.loading}>
      <div class="job-head">
        <h3 id={titleId} class="job-title">
          <Isolated class="job-type" text={job.type} />{' '}
          <code class="job-id" title={isolated(job.jobId)}>
            <Isolated text={shortId(job.jobId)} />
          </code>
        </h3>
        <span class="state-badge" data-state={job.state}>
          {STATE_LABELS[job.state]}
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
      {job.state === 'failed' && (
        <p class="job-error" data-testid="job-error">
          <strong>Error:</strong> <Isolated text={job.error ?? 'unknown'} />
        </p>
      )}
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
