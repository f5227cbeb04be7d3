import { NotFoundError, UnauthorizedError, type EnqueueResponse, type JobstreamClient, type JobSnapshot } from '@jobstream/client';
import type { LifecycleEventName } from '@jobstream/contracts';
import type { JobMessageData } from '../live/messages.js';
import { createStore, type Store } from '../ui/store.js';
import { emptyJob, isFinished, withEvent, withSnapshot, type JobView } from './job-view.js';
import { loadStoredJobs, MAX_STORED_JOBS, saveStoredJobs } from './job-persistence.js';

export interface JobsModelOptions {
  client: JobstreamClient;
  userId: string;
  /** A job this page watched finished (not one that was already finished when the page loaded). */
  onFinished(job: JobView): void;
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
 * The user's jobs as this tab knows them: submitted here, remembered from earlier visits, or seen
 * on the notification stream (a job submitted from another tab or the CLI shows up live too).
 * Snapshots come from `GET /api/jobs/:id`, everything after from the stream; while a snapshot is
 * in flight the job's stream events wait, then apply on top of it, so nothing is lost or undone.
 */
export class JobsModel {
  readonly jobs: Store<readonly JobView[]> = createStore<readonly JobView[]>([]);
  private readonly inFlight = new Map<string, PendingEvent[]>();
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: JobsModelOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
  }

  /** The jobs remembered from earlier visits, refetched (nothing is announced for them). */
  restore(): void {
    const stored = loadStoredJobs(this.options.userId);
    this.jobs.set(stored.map((s) => ({ ...emptyJob(s.jobId, s.type, s.createdAt), loading: true })));
    for (const s of stored) void this.refresh(s.jobId, false);
  }

  /** A job this page just submitted. The stream may have announced it already. */
  submitted(answer: EnqueueResponse): void {
    const existing = this.find(answer.jobId);
    if (existing) return;
    this.upsert({ ...emptyJob(answer.jobId, answer.type, new Date().toISOString()), state: answer.state });
  }

  /** A `job.<event>` message of the notification stream. */
  applyEvent(event: LifecycleEventName, data: JobMessageData, id: string | undefined): void {
    const eventId = id ?? `${data.jobId}:${event}:${data.timestamp}`;
    const waiting = this.inFlight.get(data.jobId);
    if (waiting) {
      waiting.push({ event, data, id: eventId });
      return;
    }
    const known = this.find(data.jobId);
    const base = known ?? emptyJob(data.jobId, data.jobType, data.timestamp);
    const wasFinished = isFinished(base);
    const next = withEvent(base, event, data, eventId);
    this.upsert(next);
    if (!wasFinished && isFinished(next)) this.options.onFinished(next);
    // A job first seen in the middle of its life: fetch what happened before.
    if (!known && event !== 'waiting') void this.refresh(data.jobId, true);
  }

  /** Refetches every job that has not finished (after the stream (re)connected fresh, or a reset). */
  refreshUnfinished(announce: boolean): void {
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

  /** Removes finished jobs from the list (and from this browser's memory). */
  clearFinished(): void {
    this.jobs.set((jobs) => jobs.filter((job) => !isFinished(job)));
    this.persist();
  }

  dispose(): void {
    this.disposed = true;
    this.setPolling(false);
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
      if (announce && !isFinished(before) && before.state !== 'unknown' && isFinished(after)) this.options.onFinished(after);
    } else {
      this.patch(jobId, (job) => ({ ...job, loading: false }));
    }
    for (const pending of buffered) this.applyEvent(pending.event, pending.data, pending.id);
  }

  private find(jobId: string): JobView | undefined {
    return this.jobs.get().find((job) => job.jobId === jobId);
  }

  private patch(jobId: string, update: (job: JobView) => JobView): void {
    this.jobs.set((jobs) => jobs.map((job) => (job.jobId === jobId ? update(job) : job)));
  }

  /** Replaces the job, or adds it at the top; the list keeps the newest MAX_STORED_JOBS. */
  private upsert(job: JobView): void {
    const jobs = this.jobs.get();
    const index = jobs.findIndex((j) => j.jobId === job.jobId);
    if (index >= 0) {
      this.jobs.set(jobs.map((j, i) => (i === index ? job : j)));
      return;
    }
    this.jobs.set([job, ...jobs].slice(0, MAX_STORED_JOBS));
    this.persist();
  }

  private persist(): void {
    saveStoredJobs(
      this.options.userId,
      this.jobs.get().map((job) => ({ jobId: job.jobId, type: job.type, createdAt: job.createdAt })),
    );
  }
}
