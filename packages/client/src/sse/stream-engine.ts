import { JobstreamError } from '../errors/jobstream-error.js';
import type { Transport } from '../http/transport.js';
import { backoffDelay } from './backoff.js';
import type { ConnectionInfo, ConnectionState } from './connection-state.js';
import type { SseMessage } from './sse-parser.js';
import { isFinalError, runStreamAttempt, type StreamAttemptHandle, type StreamAttemptResult, type StreamProgress } from './stream-attempt.js';
import type { ResolvedStreamOptions } from './stream-options.js';

export type { StreamProgress } from './stream-attempt.js';

/**
 * A poll standing in for the stream while it cannot be used: fetch, then apply if still polling.
 * When `apply` says `done` (the job finished), the engine makes one last stream attempt to
 * deliver the events the polls only summarized (a finished job's stream ends by itself, so even a
 * buffering proxy lets it through); `settle` runs when that attempt does not get them.
 */
export interface StreamPoller<T> {
  fetch(signal: AbortSignal): Promise<T>;
  apply(result: T): StreamProgress;
  settle(): void;
}

export interface StreamEngineHooks<P> {
  /** The stream's URL, asked before every connect. */
  url(): string;
  /**
   * A message that is not a repeat of an id already seen. A promise holds the stream until it
   * settles; when it rejects, the cursor goes back to before the message, so the next connection
   * delivers it again.
   */
  onMessage(message: SseMessage): StreamProgress | Promise<StreamProgress>;
  /** The server answered 204: nothing more will come. Called once before the engine closes. */
  onNoContent(): Promise<void>;
  onConnection(info: ConnectionInfo): void;
  /** The engine stopped on an error it will not retry; `onClosed` follows. */
  onFinalError(error: JobstreamError): void;
  onClosed(): void;
  /** The polling fallback; without one the engine only reconnects. */
  poller?: StreamPoller<P> | undefined;
}

/** Ids remembered for de-duplication across reconnects; a job keeps at most 1000 events by default. */
const MAX_SEEN_IDS = 10_000;
/** The last attempt after a poll saw the end: a finished job's stream ends at once, so this is plenty. */
const DRAIN_WINDOW_MS = 5_000;

/**
 * Keeps one SSE stream going over fetch: reconnects with backoff and full jitter (honoring the
 * server's `retry:`), resumes with `Last-Event-ID`, drops repeated ids, cuts streams that go silent,
 * falls back to a poller when streaming keeps failing and probes the stream to switch back.
 * One instance per watch; `start()` once, `close()` any time.
 */
export class StreamEngine<P = unknown> {
  private state: ConnectionState = 'connecting';
  private stopped = false;
  private started = false;
  private readonly master = new AbortController();
  private readonly seen = new Set<string>();
  private lastEventId: string;
  private serverRetryMs: number | undefined;
  private failures = 0;
  private pollGeneration = 0;
  private polling = false;
  /** A poll saw the end: one more stream attempt to fetch the remaining events, then close. */
  private draining = false;
  /** Streaming cannot work with this fetch: only polls. */
  private pollOnly = false;
  private wakeUp: (() => void) | undefined;
  private current: StreamAttemptHandle | undefined;
  private info: ConnectionInfo;

  constructor(
    private readonly transport: Transport,
    private readonly options: ResolvedStreamOptions,
    private readonly hooks: StreamEngineHooks<P>,
    initialLastEventId?: string,
  ) {
    this.lastEventId = initialLastEventId ?? '';
    this.info = { state: 'connecting', previous: 'connecting', reason: undefined, failures: 0, nextAttemptAt: undefined, lastEventId: initialLastEventId };
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get connection(): ConnectionInfo {
    return this.info;
  }

  /** The cursor a reconnect would send. */
  get cursor(): string | undefined {
    return this.lastEventId || undefined;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.transition('connecting', undefined);
    void this.run();
  }

  /** Stops everything now: the open stream, polling, pending timers. Idempotent. */
  close(): void {
    this.finish(undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const stallMs = this.options.heartbeatMs * 2;
      const attempt = await this.attempt(this.draining ? Math.min(stallMs, DRAIN_WINDOW_MS) : stallMs);
      if (this.stopped) return;
      switch (attempt.kind) {
        case 'closed':
          return;
        case 'superseded':
          continue;
        case 'done':
          this.finish(undefined);
          return;
        case 'fatal':
          this.finish(attempt.error);
          return;
        case 'unsupported':
          // Probing again cannot help: this fetch will never stream. Poll until the end.
          if (!this.hooks.poller) {
            this.finish(new JobstreamError('STREAMING_UNSUPPORTED', attempt.reason));
            return;
          }
          this.pollOnly = true;
          if (this.draining) {
            this.settleDrain();
            return;
          }
          this.startPolling();
          this.transition('polling', attempt.reason);
          await this.untilStopped();
          return;
        case 'dropped':
          this.failures = 0;
          break;
        default:
          break;
      }
      if (this.draining) {
        // The last attempt after a poll saw the end did not bring the events: end with the poll's word.
        this.settleDrain();
        return;
      }
      switch (attempt.kind) {
        case 'failed':
        case 'stalled':
          this.failures += 1;
          break;
      }
      const reason = attempt.reason;
      const fallBack = attempt.kind === 'stalled' || this.failures >= this.options.failuresBeforePolling;
      if (fallBack) this.startPolling();
      const retryAfter = 'retryAfterMs' in attempt ? attempt.retryAfterMs : undefined;
      const base = this.serverRetryMs ?? this.options.retryBaseMs;
      const delay = retryAfter ?? backoffDelay(this.failures, base, this.options.maxRetryDelayMs);
      const nextAttemptAt = Date.now() + delay;
      this.transition(this.polling ? 'polling' : 'reconnecting', reason, nextAttemptAt);
      await this.sleep(delay);
    }
  }

  /** One connection, run by `runStreamAttempt`; the engine keeps the cursor, dedup and state. */
  private async attempt(stallMs: number): Promise<StreamAttemptResult> {
    const handle: StreamAttemptHandle = { controller: new AbortController(), live: false, superseded: false };
    const stop = (): void => handle.controller.abort();
    this.master.signal.addEventListener('abort', stop);
    this.current = handle;
    try {
      return await runStreamAttempt(handle, {
        transport: this.transport,
        url: this.hooks.url(),
        lastEventId: this.lastEventId,
        stallMs,
        isClosed: () => this.stopped,
        onLive: () => this.goLive(),
        onMessage: (message) => {
          if (this.stopped) return 'done';
          const before = this.lastEventId;
          this.lastEventId = message.lastEventId;
          if (message.id) {
            if (this.seen.has(message.id)) return 'continue';
            this.remember(message.id);
          }
          const progress = this.hooks.onMessage(message);
          if (typeof progress === 'string') return progress;
          return progress.catch((err: unknown) => {
            this.lastEventId = before;
            if (message.id) this.seen.delete(message.id);
            throw err;
          });
        },
        onRetry: (ms) => {
          this.serverRetryMs = ms;
        },
        onNoContent: () => this.hooks.onNoContent(),
      });
    } finally {
      this.master.signal.removeEventListener('abort', stop);
      if (this.current === handle) this.current = undefined;
    }
  }

  private goLive(): void {
    this.failures = 0;
    this.stopPolling();
    this.transition('live', undefined);
  }

  /** Starts the poll loop (the caller announces the `polling` state). */
  private startPolling(): void {
    const poller = this.hooks.poller;
    if (!poller || this.polling || this.stopped) return;
    this.polling = true;
    const generation = ++this.pollGeneration;
    void this.pollLoop(poller, generation);
  }

  private stopPolling(): void {
    if (!this.polling) return;
    this.polling = false;
    this.pollGeneration += 1;
  }

  private async pollLoop(poller: StreamPoller<P>, generation: number): Promise<void> {
    const current = (): boolean => !this.stopped && this.pollGeneration === generation;
    while (current()) {
      try {
        const result = await poller.fetch(this.master.signal);
        if (!current()) return;
        if (poller.apply(result) === 'done') {
          this.beginDrain();
          return;
        }
      } catch (err) {
        if (!current()) return;
        if (isFinalError(err)) {
          this.finish(err);
          return;
        }
        // A failed poll changes nothing: the next one, or a stream probe, may succeed.
      }
      await this.sleep(this.options.pollIntervalMs);
    }
  }

  private beginDrain(): void {
    this.draining = true;
    this.stopPolling();
    if (this.pollOnly) {
      this.settleDrain();
      return;
    }
    // The last attempt is due now: cut the backoff short, and replace a probe that is not live
    // (stuck behind a proxy for up to twice the heartbeat) by one with a short window.
    const probe = this.current;
    if (probe && !probe.live) {
      probe.superseded = true;
      probe.controller.abort();
    }
    this.wakeUp?.();
  }

  private settleDrain(): void {
    this.hooks.poller?.settle();
    this.finish(undefined);
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > MAX_SEEN_IDS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private transition(state: ConnectionState, reason: string | undefined, nextAttemptAt?: number): void {
    const previous = this.state;
    this.state = state;
    this.info = {
      state,
      previous,
      reason,
      failures: this.failures,
      nextAttemptAt,
      lastEventId: this.lastEventId || undefined,
    };
    this.hooks.onConnection(this.info);
  }

  private finish(error: JobstreamError | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopPolling();
    this.master.abort();
    if (error) this.hooks.onFinalError(error);
    this.transition('closed', error ? `${error.code}: ${error.message}` : undefined);
    this.hooks.onClosed();
  }

  /** Resolves after `ms`, or at once when the engine stops or a drain begins. */
  private sleep(ms: number): Promise<void> {
    if (this.stopped || this.draining) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.master.signal.removeEventListener('abort', done);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      const timer = setTimeout(done, ms);
      this.master.signal.addEventListener('abort', done);
    });
  }

  private untilStopped(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.master.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}
