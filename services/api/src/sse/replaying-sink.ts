import type { ServerResponse } from 'node:http';
import { StreamSink, type CloseReason } from './stream-sink.js';

/**
 * Entries one replay read asks for (per channel). A stream that replays holds at most one page
 * beyond what its client has not read yet, so this bounds what a long history costs a client
 * that stops reading; it is small enough for events of several KB and large enough that a reading
 * client gets a history of 1,000 events in ten reads.
 */
export const REPLAY_PAGE_SIZE = 100;

/**
 * Live events that wait while a replay runs, at most. They are also stored (each is read from a
 * job's history or a channel), so past this the waiting ones are dropped and the replay reads them
 * from Redis instead: a client that does not read holds one page of them, not everything that
 * happens while it does not read.
 */
export const LIVE_BUFFER_MAX = REPLAY_PAGE_SIZE;

/** One page of a replay: the events to deliver, and whether nothing more was stored after them. */
export interface ReplayPage<E> {
  events: E[];
  end: boolean;
}

/**
 * Reads the page after where the stream is. It may write connection messages itself (a `reset`
 * when the stored history no longer covers the stream's position) before its events.
 */
export type PageReader<E> = () => Promise<ReplayPage<E>>;

/** Replays running in one process (the hub reports them). */
export interface ReplayCounter {
  running: number;
}

/** What the code that opened a stream does when the stream closes, or when it must catch up with Redis. */
export interface StreamHooks {
  /** Called once, after the stream closed (the opener takes it out of the hub). */
  onClose(reason: CloseReason): void;
  /** Replays what is stored after the stream's position (its `replay` with the stream's own page reader). */
  resync(): Promise<void>;
}

/**
 * A stream fed from two sides in any interleaving: the replay of what is stored after the
 * client's cursor, read page by page, and the live feed. Live events wait (up to
 * LIVE_BUFFER_MAX) while a replay runs and go out after it; `deliver` drops anything at or before
 * what was already sent, so each id goes out once and in order.
 */
export abstract class ReplayingSink<E> extends StreamSink {
  /** Live events wait: a replay runs, or one failed and the next must run before going live. */
  private replaying = false;
  /** A replay loop runs (at most one per stream). */
  private running = false;
  private buffered: E[] = [];
  /** Live events were dropped since the running replay last read: it reads again before going live. */
  private missed = false;

  protected constructor(
    res: ServerResponse,
    maxBufferBytes: number,
    private readonly replays: ReplayCounter,
    private readonly hooks: StreamHooks,
  ) {
    super(res, maxBufferBytes);
  }

  /**
   * Brings the stream up to date after the live feed may have missed events (Redis outage).
   * Rejects when Redis cannot be read yet; the stream's live events then wait for the next try.
   * A stream still opening is left to its own replay, which reads Redis after this.
   */
  resync(): Promise<void> {
    if (this.closed || !this.open) return Promise.resolve();
    return this.hooks.resync();
  }

  protected onClosed(reason: CloseReason): void {
    this.hooks.onClose(reason);
  }

  /** Live events wait from now on, until a replay reaches the end of what is stored. */
  beginReplay(): void {
    this.replaying = true;
  }

  /**
   * Sends what `read` finds, page by page, the next page only once the socket took the one before,
   * then what arrived live meanwhile, and goes live. `first`, when given, is a page read before
   * this call (after beginReplay()). Resolves once the first page is out: the rest follows as the
   * client reads, and a read failing there goes to `onLaterError` (the caller closes the stream,
   * so the client resumes from its cursor; going live would skip the pages not read). Rejects when
   * the first page cannot be read: live events then keep waiting until the next replay.
   * Asked while a replay runs, it makes that one read on to the end again instead.
   */
  replay(read: PageReader<E>, onLaterError: (err: unknown) => void, first?: ReplayPage<E>): Promise<void> {
    this.replaying = true;
    if (this.running) {
      this.missed = true;
      return Promise.resolve();
    }
    this.running = true;
    this.replays.running += 1;
    let firstOut!: () => void;
    let firstFailed!: (err: unknown) => void;
    const settled = new Promise<void>((resolve, reject) => {
      firstOut = resolve;
      firstFailed = reject;
    });
    // `first` goes to the loop as an argument only: a closure made here that referred to it would
    // keep that page alive for as long as the replay runs.
    const failed = (err: unknown, out: boolean): void => (out ? onLaterError(err) : firstFailed(err));
    void this.pump(read, first, firstOut, failed).finally(() => {
      this.running = false;
      this.replays.running -= 1;
      firstOut();
    });
    return settled;
  }

  private async pump(
    read: PageReader<E>,
    first: ReplayPage<E> | undefined,
    firstOut: () => void,
    failed: (err: unknown, out: boolean) => void,
  ): Promise<void> {
    let page = first;
    first = undefined;
    let out = false;
    try {
      for (;;) {
        if (this.closed) return;
        if (!page) {
          // Whatever is dropped from here on comes after the position this read starts from.
          this.missed = false;
          page = await read();
        }
        if (this.closed) return;
        this.pacing = true;
        try {
          for (const event of page.events) this.deliver(event);
          if (page.end && !this.missed) {
            this.goLive();
            return;
          }
        } finally {
          this.pacing = false;
        }
        if (!out) {
          out = true;
          firstOut();
        }
        const end = page.end;
        // No page is held while the client reads: what it has not read is in the socket's buffer.
        page = undefined;
        if (!end) await this.drained();
      }
    } catch (err) {
      failed(err, out);
    }
  }

  /** Sends what arrived live during the replay; from now on live events go straight out. */
  private goLive(): void {
    this.replaying = false;
    const pending = this.buffered;
    this.buffered = [];
    for (const event of pending) this.deliver(event);
  }

  /** A live event for this stream. */
  push(event: E): void {
    if (this.closed) return;
    if (!this.replaying) {
      this.deliver(event);
      return;
    }
    if (this.missed) return;
    if (this.buffered.length >= LIVE_BUFFER_MAX) {
      this.buffered = [];
      this.missed = true;
      return;
    }
    this.buffered.push(event);
  }

  protected dropPending(): void {
    this.buffered = [];
  }

  /** Writes `event` unless it is at or before what this stream already went past. */
  protected abstract deliver(event: E): void;
}
