import type { JobResult, JobSnapshot, JobState, JobTypeName, LifecycleEvent, LifecycleEventData } from '../contract-types.js';
import { JobstreamProtocolError } from '../errors/protocol-error.js';
import { isJobSnapshot, isLifecycleData, isLifecycleEventName, isSnapshotEventData } from '../http/shape-checks.js';
import type { Transport } from '../http/transport.js';
import type { SseMessage } from '../sse/sse-parser.js';
import { StreamEngine, type StreamProgress } from '../sse/stream-engine.js';
import type { ResolvedStreamOptions, StreamOptions } from '../sse/stream-options.js';
import { applyEvent, isFinished, rewind, sameJson } from './job-view.js';
import { fetchCompletedJob, resultLeftOut, withInlineResult } from './omitted-result.js';
import { WatchBase, type BaseWatchEvents } from './watch-base.js';

/**
 * The job type a watch, snapshot or event is typed by: a name the caller gave (directly, or through
 * the job id `enqueue` returned), or `string` (the default) when the compiler does not know it.
 * `string` rather than `undefined`, so that a watch of a known type is also a watch of some type.
 */
export type KnownJobType = string;

/** What a job of type `T` completes with: its result schema's type; `unknown` when `T` is not known. */
export type JobResultOf<T extends KnownJobType> = T extends JobTypeName ? JobResult<T> : unknown;

/**
 * A job snapshot whose `type` and `result` are typed by the job type `T`; the contract's JobSnapshot
 * when `T` is not known. The SDK does not check results at run time: the worker checked them
 * against the job type's schema before the job completed.
 */
export type TypedJobSnapshot<T extends KnownJobType = string> = T extends JobTypeName
  ? Omit<JobSnapshot, 'type' | 'result'> & { type: T; result?: JobResult<T> }
  : JobSnapshot;

/** A lifecycle event whose `completed` result is typed by the job type `T` (the contract's LifecycleEvent when `T` is not known). */
export type TypedLifecycleEvent<T extends KnownJobType = string> = T extends JobTypeName
  ? Exclude<LifecycleEvent, { event: 'completed' }> | { id: string; event: 'completed'; data: Omit<LifecycleEventData<'completed'>, 'result'> & { result?: JobResult<T> } }
  : LifecycleEvent;

/** Why a whole snapshot of the job arrived instead of an event. */
export type JobSnapshotReason =
  /** The first connect of the watch: the job as it was then; its history follows as events. */
  | 'connected'
  /** The server's history no longer covered the cursor: events between were skipped, this is the job now. */
  | 'reset'
  /** Streaming is unavailable and the job was polled (also once after a 204). */
  | 'poll';

/** The job as a whole, where the event history alone does not tell the story. */
export interface JobSnapshotItem<T extends KnownJobType = string> {
  event: 'snapshot';
  reason: JobSnapshotReason;
  job: TypedJobSnapshot<T>;
}

/** What iterating a job watch yields: each lifecycle event once, in order, and snapshots. */
export type JobWatchItem<T extends KnownJobType = string> = TypedLifecycleEvent<T> | JobSnapshotItem<T>;

export type JobProgress = JobSnapshot['progress'];

/** The listeners of a job watch (`watch.on(name, listener)`); jobs and results typed by the job type `T`. */
export interface JobWatchEvents<T extends KnownJobType = string> extends BaseWatchEvents {
  /** A lifecycle event from the stream (`waiting`, `active`, `progress`, `completed`, ...), each id once. */
  event: [event: TypedLifecycleEvent<T>];
  /** The job arrived as a whole (first connect, reset, poll). */
  snapshot: [job: TypedJobSnapshot<T>, reason: JobSnapshotReason];
  /** The job as the watch knows it changed, whatever the source: re-render from here. */
  job: [job: TypedJobSnapshot<T>];
  /** The job's state changed (`waiting` → `active` → `completed`), from events or polls. */
  state: [state: JobState, job: TypedJobSnapshot<T>];
  /** The job's progress changed, from events or polls. */
  progress: [progress: JobProgress, job: TypedJobSnapshot<T>];
  /** The server's history no longer covered the cursor; `job` is the job now. */
  reset: [job: TypedJobSnapshot<T>];
  /**
   * The job finished (completed, or failed with no retry left). The watch closes right after.
   * `replayed` is true when it had finished before the watch first saw it (its end is history,
   * not news: no "job finished" toast for it).
   */
  end: [job: TypedJobSnapshot<T>, info: { replayed: boolean }];
}

export interface WatchJobOptions extends StreamOptions {
  /** Resume after this event id (one a previous watch's `lastEventId` gave); default: the whole history. */
  lastEventId?: string;
  /** Aborting it closes the watch. */
  signal?: AbortSignal;
}

/** The message's JSON data, checked; a JobstreamProtocolError (which ends the watch) otherwise. */
function parseData<T>(message: SseMessage, check: (data: unknown) => data is T): T {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch (err) {
    throw new JobstreamProtocolError(`the "${message.event}" event's data is not JSON`, { cause: err });
  }
  if (!check(data)) throw new JobstreamProtocolError(`the "${message.event}" event does not fit the contract: ${message.data.slice(0, 200)}`);
  return data;
}

/** The snapshot as the caller's job type `T` types it: the type is their word, the result the worker's checked one. */
function typed<T extends KnownJobType>(job: JobSnapshot): TypedJobSnapshot<T> {
  return job as TypedJobSnapshot<T>;
}

/** The contract's rule (contracts' `isTerminalEvent`), kept here so that no zod reaches the bundle. */
function isTerminal(event: LifecycleEvent): boolean {
  if (event.event === 'completed') return true;
  if (event.event === 'cancelled') return !event.data.retried;
  return event.event === 'failed' && !event.data.willRetry && !event.data.retried;
}

/**
 * One job, watched live: `for await (const e of watch)` or `watch.on('progress', ...)`.
 * Ends by itself after the terminal event; see WatchBase for starting and closing.
 * A result the api left out of the stream (too large to copy into every message) is fetched once
 * with `GET /api/jobs/:id`: `completed` events and snapshots always carry it.
 * `T`, the job type when the caller named it, types the jobs and results it hands out.
 */
export class JobWatch<T extends KnownJobType = string> extends WatchBase<JobWatchItem<T>, JobWatchEvents<T>, TypedJobSnapshot<T> | undefined> {
  protected readonly engine: StreamEngine<JobSnapshot>;
  private current: JobSnapshot | undefined;
  private lastPolled: string | undefined;
  private finished = false;
  /** Whether the job was finished at the first snapshot the watch got. */
  private finishedWhenFirstSeen: boolean | undefined;
  /** The completed job, fetched for a result the stream left out (it never changes once completed). */
  private completedJob: Promise<JobSnapshot | undefined> | undefined;

  constructor(
    readonly jobId: string,
    private readonly transport: Transport,
    options: ResolvedStreamOptions,
    watchOptions: WatchJobOptions = {},
  ) {
    super(watchOptions.signal);
    const path = `/api/jobs/${encodeURIComponent(jobId)}`;
    this.engine = new StreamEngine<JobSnapshot>(
      transport,
      options,
      {
        ...this.engineHooks(),
        url: () => transport.url(`${path}/events`),
        onMessage: (message) => this.handleMessage(message),
        onNoContent: async () => {
          // The cursor was the terminal event already: nothing more to stream; say how it ended.
          if (this.applyPoll(await transport.json('GET', path, { check: isJobSnapshot, expected: 'a job snapshot' })) === 'done') this.settleFromPoll();
        },
        poller: {
          fetch: (signal) => transport.json('GET', path, { check: isJobSnapshot, expected: 'a job snapshot', signal }),
          apply: (job) => this.applyPoll(job),
          settle: () => this.settleFromPoll(),
        },
      },
      watchOptions.lastEventId,
    );
  }

  /** The job as the watch knows it now (undefined before the first snapshot). */
  get job(): TypedJobSnapshot<T> | undefined {
    return this.current && typed<T>(this.current);
  }

  protected outcome(): TypedJobSnapshot<T> | undefined {
    return this.finished && this.current ? typed<T>(this.current) : undefined;
  }

  private handleMessage(message: SseMessage): StreamProgress | Promise<StreamProgress> {
    switch (message.event) {
      case 'heartbeat':
        return 'continue';
      case 'connected':
      case 'reset': {
        const reason = message.event;
        const { job } = parseData(message, isSnapshotEventData);
        // On a reconnect the history after the cursor follows and brings the job up to date;
        // taking this snapshot first would make state and progress jump ahead and back.
        if (reason === 'connected' && this.current) return 'continue';
        if (!resultLeftOut(job)) return this.handleSnapshot(reason, job);
        return this.fetchCompleted().then((full) => (this.connectionState === 'closed' ? 'done' : this.handleSnapshot(reason, full ?? job)));
      }
      default:
        break;
    }
    const name = message.event;
    if (!isLifecycleEventName(name)) return 'continue'; // an event newer than this SDK
    const data = parseData(message, (d) => isLifecycleData(name, d));
    const event = { id: message.id ?? message.lastEventId, event: name, data } as LifecycleEvent;
    if (event.event !== 'completed' || !resultLeftOut(event.data)) return this.handleEvent(event);
    return this.fetchCompleted().then((full) => {
      if (this.connectionState === 'closed') return 'done';
      return this.handleEvent(full ? { ...event, data: withInlineResult(event.data, full.result) } : event);
    });
  }

  private handleSnapshot(reason: 'connected' | 'reset', job: JobSnapshot): StreamProgress {
    if (reason === 'connected') {
      // Checked again: a watch that fetched the result may have got its snapshot meanwhile.
      if (this.current) return 'continue';
      // Without a cursor the job's whole history follows, from its first event: the listeners
      // then see it in order from the start instead of jumping to the end and back again.
      this.setSnapshot(job, 'connected', this.engine.cursor === undefined ? rewind(job) : job);
      return 'continue';
    }
    this.setSnapshot(job, 'reset');
    this.emit('reset', typed<T>(job));
    return 'continue';
  }

  /**
   * The job with its result, for an event or snapshot the api sent without it; fetched once. A
   * failed fetch is not kept: the engine then takes the message back and the next connection
   * delivers it again.
   */
  private fetchCompleted(): Promise<JobSnapshot | undefined> {
    this.completedJob ??= fetchCompletedJob(this.transport, this.jobId).catch((err: unknown) => {
      this.completedJob = undefined;
      throw err;
    });
    return this.completedJob;
  }

  private handleEvent(event: LifecycleEvent): StreamProgress {
    this.deliver(event as TypedLifecycleEvent<T>);
    this.emit('event', event as TypedLifecycleEvent<T>);
    const previous = this.current;
    if (previous) {
      this.current = applyEvent(previous, event);
      this.announce(previous, this.current);
    }
    if (!isTerminal(event)) return 'continue';
    this.finished = true;
    if (this.current) this.emit('end', typed<T>(this.current), { replayed: this.finishedWhenFirstSeen === true });
    return 'done';
  }

  /**
   * A polled snapshot. When it is finished the engine tries the stream once more for the events
   * the polls skipped (the terminal one then ends the watch); `settleFromPoll` ends it otherwise.
   */
  private applyPoll(job: JobSnapshot): StreamProgress {
    const key = JSON.stringify(job);
    if (key !== this.lastPolled) {
      this.lastPolled = key;
      this.setSnapshot(job, 'poll');
    }
    return isFinished(job) ? 'done' : 'continue';
  }

  private settleFromPoll(): void {
    if (this.finished || !this.current) return;
    this.finished = true;
    this.emit('end', typed<T>(this.current), { replayed: this.finishedWhenFirstSeen === true });
  }

  /** Publishes a snapshot; `known` is what the listeners and `job` get (the snapshot itself, or its rewound start). */
  private setSnapshot(job: JobSnapshot, reason: JobSnapshotReason, known: JobSnapshot = job): void {
    this.finishedWhenFirstSeen ??= isFinished(job);
    const previous = this.current;
    this.current = known;
    this.deliver({ event: 'snapshot', reason, job: typed<T>(job) });
    this.emit('snapshot', typed<T>(job), reason);
    this.announce(previous, known);
  }

  private announce(previous: JobSnapshot | undefined, next: JobSnapshot): void {
    const job = typed<T>(next);
    this.emit('job', job);
    if (previous?.state !== next.state) this.emit('state', next.state, job);
    if (!previous || !sameJson(previous.progress, next.progress)) this.emit('progress', next.progress, job);
  }
}
