import type { ServerResponse } from 'node:http';
import { formatSse, type SseMessage } from './sse-format.js';

export type CloseReason = 'terminal' | 'client_gone' | 'slow_client' | 'shutdown';

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
 * stop reading, the written-since-last-look flag the hub's heartbeat uses, and closing.
 */
export abstract class StreamSink {
  /** Headers are out; heartbeats may be written. */
  open = false;
  closed = false;
  /** Something was written since the hub last looked (then no heartbeat is needed). */
  private wrote = false;
  /** The turn of the last write (see currentTurn). */
  private lastWriteTurn = -1;

  protected constructor(
    protected readonly res: ServerResponse,
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
    // client that reads can still get one burst larger than the cap (a replay of a long history,
    // a big result, a large feed batch) without being cut on every reconnect. What stays queued
    // is at most the cap plus one burst.
    const now = currentTurn();
    if (now !== this.lastWriteTurn) {
      this.lastWriteTurn = now;
      if (this.res.writableLength > this.maxBufferBytes) {
        this.close('slow_client');
        return;
      }
    }
    this.wrote = true;
    this.res.write(chunk);
  }
}
