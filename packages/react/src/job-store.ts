import type { ConnectionState, JobProgress, JobSnapshot, JobState, JobstreamClient, JobstreamError, LifecycleEvent } from '@jobstream/client';
import { SharedStore, type StoreLifecycle } from './shared-store.js';

/** What `useJob` renders from: one job as its watch knows it. */
export interface JobView {
  /** The whole job as known now (undefined until the first snapshot arrived). */
  job: JobSnapshot | undefined;
  state: JobState | undefined;
  progress: JobProgress | undefined;
  /** The job's result once it completed. */
  result: unknown;
  /** Why the job failed (its last attempt's error), once it did. */
  error: string | undefined;
  /** Every lifecycle event from the stream, each once and in order, oldest first. */
  events: readonly LifecycleEvent[];
  /** The watch's connection: `connecting`, `live`, `reconnecting`, `polling`, `closed`. */
  connection: ConnectionState;
  /** The job finished (completed, cancelled, or failed with no retry left). */
  finished: boolean;
  /** The error that stopped the watch (an unknown job's NotFoundError, a refused token...), if one did. */
  watchError: JobstreamError | undefined;
}

/** The view before anything is known (also `useJob(undefined)`'s). */
export const idleJobView: JobView = Object.freeze({
  job: undefined,
  state: undefined,
  progress: undefined,
  result: undefined,
  error: undefined,
  events: Object.freeze([]) as readonly LifecycleEvent[],
  connection: 'closed',
  finished: false,
  watchError: undefined,
});

const connectingJobView: JobView = Object.freeze({ ...idleJobView, connection: 'connecting' });

function withJob(view: JobView, job: JobSnapshot): JobView {
  return { ...view, job, state: job.state, progress: job.progress, result: job.result, error: job.error };
}

/** One job's watch, shared by every `useJob(jobId)` of a client: one stream however many components show it. */
export class JobStore extends SharedStore<JobView> {
  constructor(
    private readonly client: JobstreamClient,
    private readonly jobId: string,
    lifecycle: StoreLifecycle,
  ) {
    super(connectingJobView, lifecycle);
  }

  protected activate(): () => void {
    const watch = this.client
      .watchJob(this.jobId)
      .on('event', (event) => this.update((view) => ({ ...view, events: [...view.events, event] })))
      .on('job', (job) => this.update((view) => withJob(view, job)))
      .on('end', () => this.update((view) => ({ ...view, finished: true })))
      .on('connection', (info) => this.update((view) => (view.connection === info.state ? view : { ...view, connection: info.state })))
      .on('error', (watchError) => this.update((view) => ({ ...view, watchError })))
      .on('close', () => this.update((view) => ({ ...view, connection: 'closed' })));
    return () => watch.close();
  }
}
