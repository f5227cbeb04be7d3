import {
  UnauthorizedError,
  ValidationError,
  type ConnectionInfo,
  type JobstreamClient,
  type JobstreamError,
  type NotificationItem,
  type NotificationWatch,
  type StreamOptions,
} from '@jobstream/client';
import { createStore, type Store } from '../ui/store.js';

/**
 * What the indicator shows. `polling` is the page's own fallback: the notification stream has no
 * polling of its own (see docs/client.md), so while it keeps failing the page asks for its
 * unfinished jobs (`GET /api/jobs/:id`) instead, and the stream keeps retrying in the background.
 */
export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'closed';

export interface LinkStatus {
  state: LinkState;
  /** When this state began (ms since epoch). */
  since: number;
  /** Why it changed, from the SDK (`the server ended the stream`, `HTTP 503 SERVER_BUSY`, ...). */
  reason: string | undefined;
  /** Failed connects in a row. */
  failures: number;
  /** When the next connect is due (ms since epoch). */
  nextAttemptAt: number | undefined;
  /** Where a reconnect resumes. */
  lastEventId: string | undefined;
}

export interface LiveConnectionOptions {
  /** Every message but heartbeats, each once, in order. */
  onItem(item: NotificationItem): void;
  /** The stream was refused for the token (401): the page signs out. */
  onUnauthorized(error: JobstreamError): void;
  /** Failed connects in a row before the page polls. Default 3 (the SDK's own default for job watches). */
  failuresBeforePolling?: number;
  /** When the api has no notification stream at all (404), how long until it is tried again. Default 30 s. */
  reopenAfterMs?: number;
  /** The SDK's stream options (backoff, heartbeat). */
  stream?: StreamOptions;
}

/**
 * The tab's one stream: `GET /api/notifications/stream` carries every event of the user's jobs,
 * their notifications, the unread count and (for admins) the system events, so everything on the
 * page shares it instead of opening a connection per job (browsers allow six per host).
 */
export class LiveConnection {
  readonly status: Store<LinkStatus>;
  private watch: NotificationWatch | undefined;
  private reopenTimer: ReturnType<typeof setTimeout> | undefined;
  private cursor: string | undefined;
  private closed = false;
  private readonly failuresBeforePolling: number;
  private readonly reopenAfterMs: number;

  constructor(
    private readonly client: JobstreamClient,
    private readonly options: LiveConnectionOptions,
  ) {
    this.failuresBeforePolling = options.failuresBeforePolling ?? 3;
    this.reopenAfterMs = options.reopenAfterMs ?? 30_000;
    this.status = createStore<LinkStatus>({ state: 'connecting', since: Date.now(), reason: undefined, failures: 0, nextAttemptAt: undefined, lastEventId: undefined });
  }

  start(): void {
    if (this.closed || this.watch) return;
    this.open();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    this.watch?.close();
    this.update({ state: 'closed', reason: undefined, nextAttemptAt: undefined });
  }

  private open(): void {
    const watch = this.client.watchNotifications(
      {},
      { ...this.options.stream, ...(this.cursor !== undefined ? { lastEventId: this.cursor } : {}) },
    );
    this.watch = watch;
    const current = (): boolean => this.watch === watch && !this.closed;
    watch.on('connection', (info) => {
      if (current()) this.onConnection(info);
    });
    watch.on('notification', (item) => {
      if (current()) this.options.onItem(item);
    });
    watch.on('error', (error) => {
      if (current()) this.onFinalError(watch, error);
    });
  }

  private onConnection(info: ConnectionInfo): void {
    if (info.state === 'closed') return; // a final error (handled by onFinalError) or close()
    const state: LinkState =
      info.state === 'reconnecting' && info.failures >= this.failuresBeforePolling ? 'polling' : info.state;
    this.update({ state, reason: info.reason, failures: info.failures, nextAttemptAt: info.nextAttemptAt, lastEventId: info.lastEventId });
  }

  /** An answer the SDK does not retry: 401 signs out; anything else (an api without the route) polls and tries again later. */
  private onFinalError(watch: NotificationWatch, error: JobstreamError): void {
    if (error instanceof UnauthorizedError) {
      this.closed = true;
      this.update({ state: 'closed', reason: `${error.code}: ${error.message}`, nextAttemptAt: undefined });
      this.options.onUnauthorized(error);
      return;
    }
    // A cursor the api no longer accepts is dropped; the jobs are refetched on the next `connected`.
    this.cursor = error instanceof ValidationError ? undefined : watch.lastEventId;
    const nextAttemptAt = Date.now() + this.reopenAfterMs;
    this.update({ state: 'polling', reason: `${error.code}: ${error.message}`, failures: this.status.get().failures + 1, nextAttemptAt });
    this.reopenTimer = setTimeout(() => {
      if (!this.closed) this.open();
    }, this.reopenAfterMs);
  }

  private update(patch: Partial<LinkStatus>): void {
    this.status.set((previous) => {
      const next = { ...previous, ...patch };
      if (next.state !== previous.state) next.since = Date.now();
      return next;
    });
  }
}
