import { NotFoundError, UnauthorizedError, type EnqueueResponse, type JobstreamClient, type JobSnapshot } from '@jobstream/client';
import type { JobState, LifecycleEventName } from '@jobstream/contracts';
import type { JobMessageData } from '../live/messages.js';
import { createStore, type Store } from '../ui/store.js';
import type { JobPageLoader } from './job-pages.js';
import { emptyJob, isFinished, withEvent, withSnapshot, type JobView } from './job-view.js';
import { forgetStoredJobs, loadHiddenJobs, loadStoredJobs, saveHiddenJobs, saveStoredJobs } from './job-persistence.js';

/** Most jobs the list holds (as many as the api lists per user); the oldest fall off. */
export const MAX_LISTED_JOBS = 1_000;

/** Where the list comes from, and whether there is more of it. */
export interface JobListing {
  /**
   * `loading`: the first page is on its way. `api`: the api's `GET /api/jobs`. `browser`: the api
   * cannot list jobs (older than the route, or failing), so the list is what this browser remembers.
   */
  source: 'loading' | 'api' | 'browser';
  /** The api has older jobs than the list shows ("Load more"). */
  nextCursor: string | null;
  loadingMore: boolean;
  /** Why the last page could not be loaded. */
  error: string | undefined;
}

export interface JobsModelOptions {
  client: JobstreamClient;
  userId: string;
  /** Pages of the user's jobs from the api, newest first. */
  loadPage: JobPageLoader;
  /** A job this page watched finished (not one that was already finished when the page loaded). */
  onFinished(job: JobView): void;
  /**
   * A job changed state while the page watched it (its events, its refetch, its submission);
   * `from` is undefined for a job new to the page. Jobs the list loaded are not reported.
   */
  onMoved?(from: JobState | undefined, to: JobState): void;
  onUnauthorized(error: UnauthorizedError): void;
  /** Polling cadence while the stream is down. Default 2 s. */
  pollIntervalMs?: number;
}

interface PendingEvent {
  event: LifecycleEventName;
  data: JobMessageData;
  id: string;
}

/**
 * The user's jobs as this tab knows them: the api's list (`GET /api/jobs`, page by page), plus
 * what the notification stream brings (a job submitted from another tab or the CLI shows up live).
 * Snapshots come from the api, everything after from the stream. While a snapshot is in flight
 * the stream events it could be older than wait (a job's own while its `GET /api/jobs/:id` runs,
 * all of them while a page loads), then apply on top of it, so nothing is lost or undone.
 */
export class JobsModel {
  readonly jobs: Store<readonly JobView[]> = createStore<readonly JobView[]>([]);
  readonly listing: Store<JobListing> = createStore<JobListing>({ source: 'loading', nextCursor: null, loadingMore: false, error: undefined });
  private readonly inFlight = new Map<string, PendingEvent[]>();
  /** Events held while a page of the list is in flight; undefined when none is. */
  private pageHeld: PendingEvent[] | undefined;
  /** A refresh of the unfinished jobs asked for while a page was in flight (its `announce`). */
  private refreshAfterPage: boolean | undefined;
  /** Ids "Clear finished" removed, oldest first: not shown again, from the api's pages or the stream. */
  private readonly hidden: Set<string>;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: JobsModelOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.hidden = new Set(loadHiddenJobs(options.userId).reverse());
  }

  /**
   * The first page of the user's jobs from the api, merged with whatever the stream brought
   * meanwhile (nothing is announced for jobs that had finished before). An api that cannot list
   * jobs gets the old behaviour: the jobs this browser remembers, refetched by id.
   */
  async load(): Promise<void> {
    await this.withEventsHeld(async () => {
      try {
        const page = await this.options.loadPage(undefined);
        if (this.disposed) return;
        this.merge(page.jobs);
        this.listing.set({ source: 'api', nextCursor: page.nextCursor, loadingMore: false, error: undefined });
      } catch (err) {
        if (err instanceof UnauthorizedError) {
          this.options.onUnauthorized(err);
          return;
        }
        if (this.disposed) return;
        this.restore();
        // No route (an older api) is not worth a message; anything else is.
        const error = err instanceof NotFoundError && err.code === 'NOT_FOUND' ? undefined : `Your jobs could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
        this.listing.set({ source: 'browser', nextCursor: null, loadingMore: false, error });
      }
    });
  }

  /** The next page of older jobs, after the ones the list holds. */
  async loadMore(): Promise<void> {
    const { nextCursor, loadingMore } = this.listing.get();
    if (nextCursor === null || loadingMore || this.pageHeld || this.disposed) return;
    this.listing.set((s) => ({ ...s, loadingMore: true, error: undefined }));
    await this.withEventsHeld(async () => {
      try {
        const page = await this.options.loadPage(nextCursor);
        if (this.disposed) return;
        this.merge(page.jobs);
        this.listing.set((s) => ({ ...s, nextCursor: page.nextCursor, loadingMore: false }));
      } catch (err) {
        if (err instanceof UnauthorizedError) this.options.onUnauthorized(err);
        this.listing.set((s) => ({ ...s, loadingMore: false, error: `Older jobs could not be loaded: ${err instanceof Error ? err.message : String(err)}` }));
      }
    });
  }

  /** A job this page just submitted. The stream may have announced it already. */
  submitted(answer: EnqueueResponse): void {
    const existing = this.find(answer.jobId);
    if (existing) return;
    this.upsert({ ...emptyJob(answer.jobId, answer.type, new Date().toISOString()), state: answer.state });
    this.options.onMoved?.(undefined, answer.state);
  }

  /** A `job.<event>` message of the notification stream. */
  applyEvent(event: LifecycleEventName, data: JobMessageData, id: string | undefined): void {
    if (this.hidden.has(data.jobId)) return;
    const eventId = id ?? `${data.jobId}:${event}:${data.timestamp}`;
    const waiting = this.inFlight.get(data.jobId) ?? this.pageHeld;
    if (waiting) {
      waiting.push({ event, data, id: eventId });
      return;
    }
    const known = this.find(data.jobId);
    const base = known ?? emptyJob(data.jobId, data.jobType, data.timestamp);
    const wasFinished = isFinished(base);
    const next = withEvent(base, event, data, eventId);
    this.upsert(next);
    if (known?.state !== next.state) this.options.onMoved?.(known?.state, next.state);
    if (!wasFinished && isFinished(next)) this.options.onFinished(next);
    // A job first seen in the middle of its life: fetch what happened before.
    if (!known && event !== 'waiting') void this.refresh(data.jobId, true);
  }

  /** Refetches every job that has not finished (after the stream (re)connected fresh, or a reset). */
  refreshUnfinished(announce: boolean): void {
    if (this.pageHeld) {
      // The page may have been read before the stream started: its unfinished jobs are refetched once it is in.
      this.refreshAfterPage = (this.refreshAfterPage ?? false) || announce;
      return;
    }
    for (const job of this.jobs.get()) if (!isFinished(job)) void this.refresh(job.jobId, announce);
  }

  /** While the stream is down, unfinished jobs are polled; the stream's replay fills in the events later. */
  setPolling(on: boolean): void {
    if (on && this.pollTimer === undefined && !this.disposed) {
      this.pollTimer = setInterval(() => this.refreshUnfinished(true), this.pollIntervalMs);
      this.refreshUnfinished(true);
    } else if (!on && this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** Removes finished jobs from the list; this browser remembers not to show them again. */
  clearFinished(): void {
    const finished = this.jobs.get().filter(isFinished).map((job) => job.jobId);
    if (finished.length === 0) return;
    for (const jobId of finished) this.hidden.add(jobId);
    saveHiddenJobs(this.options.userId, [...this.hidden].reverse());
    this.jobs.set((jobs) => jobs.filter((job) => !isFinished(job)));
    this.persist();
  }

  /** Changes one job as this page's own actions see it; a change of state is reported like any other. */
  update(jobId: string, change: (job: JobView) => JobView): void {
    const before = this.find(jobId);
    if (!before) return;
    const after = change(before);
    this.patch(jobId, () => after);
    if (before.state !== after.state) this.options.onMoved?.(before.state, after.state);
  }

  /** Reads one job again from the api (its events meanwhile wait and apply on top). */
  refreshJob(jobId: string): void {
    void this.refresh(jobId, true);
  }

  dispose(): void {
    this.disposed = true;
    this.setPolling(false);
  }

  /** Signing out: stops, and removes what this browser kept of the user's jobs. */
  forget(): void {
    this.dispose();
    forgetStoredJobs(this.options.userId);
  }

  private async refresh(jobId: string, announce: boolean): Promise<void> {
    if (this.inFlight.has(jobId) || this.disposed) return;
    this.inFlight.set(jobId, []);
    this.patch(jobId, (job) => ({ ...job, loading: true }));
    let snapshot: JobSnapshot | undefined;
    let gone = false;
    try {
      snapshot = await this.options.client.getJob(jobId);
    } catch (err) {
      if (err instanceof UnauthorizedError) this.options.onUnauthorized(err);
      // Expired (past the api's retention) or not this user's: it cannot be shown any more.
      gone = err instanceof NotFoundError;
      // Anything else (the api is restarting): keep what is known; the next refresh or event fixes it.
    }
    const buffered = this.inFlight.get(jobId) ?? [];
    this.inFlight.delete(jobId);
    if (this.disposed) return;
    if (gone) {
      this.jobs.set((jobs) => jobs.filter((job) => job.jobId !== jobId));
      this.persist();
      return;
    }
    const before = this.find(jobId);
    if (snapshot && before) {
      const after = withSnapshot(before, snapshot);
      this.upsert({ ...after, loading: false });
      if (before.state !== 'unknown' && before.state !== after.state) this.options.onMoved?.(before.state, after.state);
      if (announce && !isFinished(before) && before.state !== 'unknown' && isFinished(after)) this.options.onFinished(after);
    } else {
      this.patch(jobId, (job) => ({ ...job, loading: false }));
    }
    for (const pending of buffered) this.applyEvent(pending.event, pending.data, pending.id);
  }

  /**
   * The jobs this browser remembers, refetched by id (nothing is announced for them): the list when
   * the api cannot give one. Jobs the list already holds stay as they are.
   */
  private restore(): void {
    const known = new Set(this.jobs.get().map((job) => job.jobId));
    const stored = loadStoredJobs(this.options.userId).filter((s) => !known.has(s.jobId) && !this.hidden.has(s.jobId));
    this.jobs.set((jobs) => [...jobs, ...stored.map((s) => ({ ...emptyJob(s.jobId, s.type, s.createdAt), loading: true }))]);
    for (const s of stored) void this.refresh(s.jobId, false);
  }

  /** Runs `load` with the stream's job events held, then applies them on top of what it loaded. */
  private async withEventsHeld(load: () => Promise<void>): Promise<void> {
    this.pageHeld = [];
    try {
      await load();
    } finally {
      const held = this.pageHeld;
      const refresh = this.refreshAfterPage;
      this.pageHeld = undefined;
      this.refreshAfterPage = undefined;
      if (!this.disposed) {
        for (const pending of held) this.applyEvent(pending.event, pending.data, pending.id);
        if (refresh !== undefined) this.refreshUnfinished(refresh);
      }
    }
  }

  /**
   * Snapshots from a page of the api's list: each replaces what the list knew of the job (its event
   * log is kept), and the list is ordered newest first again. A job whose own refetch is in flight
   * is left to it. Only a job this page watched unfinished is announced when the page shows it finished.
   */
  private merge(snapshots: readonly JobSnapshot[]): void {
    const byId = new Map(this.jobs.get().map((job) => [job.jobId, job]));
    const finishedNow: JobView[] = [];
    for (const snapshot of snapshots) {
      if (this.hidden.has(snapshot.jobId) || this.inFlight.has(snapshot.jobId)) continue;
      const before = byId.get(snapshot.jobId);
      const after = { ...withSnapshot(before ?? emptyJob(snapshot.jobId, snapshot.type), snapshot), loading: false };
      byId.set(snapshot.jobId, after);
      if (before && !isFinished(before) && before.state !== 'unknown' && isFinished(after)) finishedNow.push(after);
    }
    this.jobs.set(newestFirst([...byId.values()]).slice(0, MAX_LISTED_JOBS));
    this.persist();
    for (const job of finishedNow) this.options.onFinished(job);
  }

  private find(jobId: string): JobView | undefined {
    return this.jobs.get().find((job) => job.jobId === jobId);
  }

  private patch(jobId: string, update: (job: JobView) => JobView): void {
    this.jobs.set((jobs) => jobs.map((job) => (job.jobId === jobId ? update(job) : job)));
  }

  /** Replaces the job, or adds it at the top; the list keeps the newest MAX_LISTED_JOBS. */
  private upsert(job: JobView): void {
    const jobs = this.jobs.get();
    const index = jobs.findIndex((j) => j.jobId === job.jobId);
    if (index >= 0) {
      this.jobs.set(jobs.map((j, i) => (i === index ? job : j)));
      return;
    }
    this.jobs.set([job, ...jobs].slice(0, MAX_LISTED_JOBS));
    this.persist();
  }

  private persist(): void {
    // After sign-out nothing is written again (a submission or page that answers late).
    if (this.disposed) return;
    saveStoredJobs(
      this.options.userId,
      this.jobs.get().map((job) => ({ jobId: job.jobId, type: job.type, createdAt: job.createdAt })),
    );
  }
}

/** Newest first by creation time; a job not yet timed (just seen) counts as newest. */
function newestFirst(jobs: JobView[]): JobView[] {
  const time = (job: JobView): number => (job.createdAt === undefined ? Number.MAX_SAFE_INTEGER : Date.parse(job.createdAt) || 0);
  return jobs.sort((a, b) => time(b) - time(a));
}
