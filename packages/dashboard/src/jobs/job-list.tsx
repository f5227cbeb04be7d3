import { useEffect, useRef } from 'preact/hooks';
import { Isolated } from '../ui/isolated.js';
import { useStore, useTicker } from '../ui/store.js';
import type { JobActions } from './job-actions.js';
import { JobCard } from './job-card.js';
import { isFinished } from './job-view.js';
import type { JobsModel } from './jobs-model.js';

/** The user's jobs, newest first, live; older pages on demand. */
export function JobList({ model, actions }: { model: JobsModel; actions: JobActions }) {
  const jobs = useStore(model.jobs);
  const listing = useStore(model.listing);
  const running = jobs.some((job) => job.state === 'active' || job.state === 'waiting' || job.state === 'delayed' || job.state === 'prioritized');
  // Durations of running jobs tick; nothing ticks when nothing runs.
  const now = useTicker(1_000, running);
  const finished = jobs.filter(isFinished).length;
  useLinkedJob(jobs.length);
  return (
    <section class="card jobs" aria-labelledby="jobs-title" aria-busy={listing.source === 'loading'}>
      <div class="section-head">
        <h2 id="jobs-title" tabIndex={-1}>
          Your jobs
        </h2>
        <span class="count" aria-label={`${jobs.length} jobs`}>
          {jobs.length}
        </span>
        <button type="button" class="button ghost small push-right" onClick={() => model.clearFinished()} disabled={finished === 0}>
          Clear finished
        </button>
      </div>
      {listing.error !== undefined && (
        <p class="notice error" role="alert">
          <Isolated text={listing.error} />
        </p>
      )}
      {jobs.length === 0 ? (
        <p class="empty">{listing.source === 'loading' ? 'Loading your jobs…' : 'No jobs yet. Submit one and watch it run here.'}</p>
      ) : (
        <ul class="job-list" aria-label="Jobs">
          {jobs.map((job) => (
            <JobCard key={job.jobId} job={job} now={now} actions={actions} />
          ))}
        </ul>
      )}
      {listing.nextCursor !== null && (
        <div class="list-foot">
          <button type="button" class="button ghost small" disabled={listing.loadingMore} onClick={() => void model.loadMore()}>
            {listing.loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
      <p class="muted small footnote">
        {listing.source === 'browser'
          ? 'Shows the jobs submitted from this browser (remembered across reloads) and any of your jobs that run while the page is open.'
          : 'Shows your jobs for as long as jobstream keeps them, wherever they were submitted (this page, another tab, the CLI or a backend), updated live. "Clear finished" hides the finished ones in this browser.'}
      </p>
    </section>
  );
}

/**
 * A push opens the dashboard at `/?job=<id>`: once that job's card is on the page it is marked
 * (`data-linked`, `aria-current`) and scrolled into view, once.
 */
function useLinkedJob(jobCount: number): void {
  const wanted = useRef(typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('job'));
  useEffect(() => {
    const id = wanted.current;
    if (!id) return;
    const card = document.querySelector<HTMLElement>(`li.job[data-job-id="${CSS.escape(id)}"]`);
    if (!card) return;
    wanted.current = null;
    card.dataset.linked = 'true';
    card.setAttribute('aria-current', 'true');
    card.scrollIntoView({ block: 'center' });
  }, [jobCount]);
}
