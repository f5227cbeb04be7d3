import type { ServerResponse } from 'node:http';
import { formatSse, type SseMessage } from './sse-format.js';

/** Why a stream ended; `replay_failed`: Redis failed in the middle of a replay, the client resumes from its cursor. */
export type CloseReason = 'terminal' | 'client_gone' | 'slow_client' | 'shutdown' | 'replay_failed';

/**
 * A counter that moves on once per turn of the event loop (one microtask per turn that writes,
 * for all streams): what one synchronous pass writes (a replay, a batch from the feed) is a burst.
 */
let turn = 0;
let turnEnding = false;
function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    queueMicrotask(() => {
      turn += 1;
      turnEnding = false;
    });
  }
  return turn;
}

/**
 * What every open SSE stream shares, whatever it carries: the bounded write to a client that may
 * stop reading, waiting until the client took what was written (replays), the
 * written-since-last-look flag the hub's heartbeat uses, and closing.
 */
export abstract class StreamSink {
  /** Headers are out; heartbeats may be written. */
  open = false;
  closed = false;
  /** Something was written since the hub last looked (then no heartbeat is needed). */
  private wrote = false;
  /** The turn of the last write (see currentTurn). */
  private lastWriteTurn = -1;
  /** A replay page is being written: it is paced by `drained()`, not by the cap. */
  protected pacing = false;
  /** Ends a `drained()` wait early (the stream closed). */
  private wake: (() => void) | undefined;

  protected constructor(
    /** The stream's response; its request's id and log lines live on it (see request-context.ts). */
    readonly res: ServerResponse,
    private readonly maxBufferBytes: number,
  ) {}

  /** Writes the stream's heartbeat message (the hub calls it on a stream that was idle for an interval). */
  abstract heartbeat(timestamp: string): void;

  /** Called once, after the stream closed. */
  protected abstract onClosed(reason: CloseReason): void;

  /** Forgets anything held for delivery (the stream is closing). */
  protected abstract dropPending(): void;

  /** Writes a message that is not part of a stored history (connected, heartbeat, reset). */
  send(message: SseMessage): void {
    this.write(formatSse(message));
  }

  /** Bytes written to this stream that the socket has not handed to the kernel yet. */
  get queuedBytes(): number {
    return this.res.writableLength;
  }

  /** Whether a replay waits for the client to read what it wrote before it writes its next page. */
  get waitingForClient(): boolean {
    return this.wake !== undefined;
  }

  /** Whether anything was written since the last call. */
  takeWroteFlag(): boolean {
    const wrote = this.wrote;
    this.wrote = false;
    return wrote;
  }

  close(reason: CloseReason, retryMs?: number): void {
    if (this.closed) return;
    this.closed = true;
    this.dropPending();
    this.wake?.();
    if (reason === 'slow_client') {
      // The client is not reading; anything more would only queue. It resumes by Last-Event-ID.
      this.res.destroy();
    } else if (!this.res.writableEnded) {
      if (retryMs !== undefined && this.open) this.res.write(`retry: ${Math.round(retryMs)}\n\n`);
      this.res.end();
    }
    this.onClosed(reason);
  }

  protected write(chunk: string): void {
    if (this.closed) return;
    // The cap applies to what earlier turns left unread, checked as a new turn starts writing: a
    // client that reads can still get one burst larger than the cap (the live events of one feed
    // batch, a replay page) without being cut on every reconnect. A replay writes its next page
    // only once the client took the one before (see drained()), so the page is the largest burst
    // it makes: what stays queued is at most the cap plus one burst, replays included.
    const now = currentTurn();
    if (now !== this.lastWriteTurn) {
      this.lastWriteTurn = now;
      if (!this.pacing && this.res.writableLength > this.maxBufferBytes) {
        this.close('slow_client');
        return;
      }
    }
    this.wrote = true;
    this.res.write(chunk);
  }

  /**
   * Resolves once the socket took what is queued (at once unless a write was refused, i.e. more
   * than the socket's high-water mark of 16 KiB waits), or when the stream closes. Listeners are
   * removed either way, so a replay whose client went away leaves nothing behind.
   */
  protected drained(): Promise<void> {
    if (this.closed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}
