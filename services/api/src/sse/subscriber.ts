import { isTerminalEvent, type LifecycleEvent } from '@jobstream/contracts';
import { compareStreamIds } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import { formatLifecycleEvent, formatSse, type SseMessage } from './sse-format.js';

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
 * One open stream of one job. Lifecycle events reach it from two sides, the replay of the job's
 * history and the live feed, in any interleaving; it delivers each id once and in order by
 * buffering live events while a replay runs and dropping anything at or before the last id sent.
 */
export class Subscriber {
  lastSentId: string | undefined;
  /** Headers are out; heartbeats may be written. */
  open = false;
  closed = false;
  private replaying = 0;
  /** Something was written since the hub last looked (then no heartbeat is needed). */
  private wrote = false;
  private buffered: LifecycleEvent[] = [];
  /** The turn of the last write (see currentTurn). */
  private lastWriteTurn = -1;

  constructor(
    readonly jobId: string,
    private readonly res: ServerResponse,
    private readonly maxBufferBytes: number,
    private readonly onClose: (subscriber: Subscriber, reason: CloseReason) => void,
  ) {}

  /** Live events wait in memory until the replay that is running ends. */
  beginReplay(): void {
    this.replaying += 1;
  }

  /** Sends what the replay found, then what arrived live meanwhile. */
  endReplay(events: LifecycleEvent[]): void {
    this.replaying = Math.max(0, this.replaying - 1);
    for (const event of events) this.deliver(event);
    if (this.replaying === 0 && this.buffered.length > 0) {
      const pending = this.buffered;
      this.buffered = [];
      for (const event of pending) this.deliver(event);
    }
  }

  /** A live event for this job. */
  push(event: LifecycleEvent): void {
    if (this.closed) return;
    if (this.replaying > 0) {
      this.buffered.push(event);
      return;
    }
    this.deliver(event);
  }

  /** Writes a message that is not part of the job's history (connected, heartbeat, reset). */
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
    this.buffered = [];
    if (reason === 'slow_client') {
      // The client is not reading; anything more would only queue. It resumes by Last-Event-ID.
      this.res.destroy();
    } else if (!this.res.writableEnded) {
      if (retryMs !== undefined && this.open) this.res.write(`retry: ${Math.round(retryMs)}\n\n`);
      this.res.end();
    }
    this.onClose(this, reason);
  }

  private deliver(event: LifecycleEvent): void {
    if (this.closed) return;
    if (this.lastSentId !== undefined && compareStreamIds(event.id, this.lastSentId) <= 0) return;
    this.lastSentId = event.id;
    this.write(formatLifecycleEvent(event));
    if (isTerminalEvent(event)) this.close('terminal');
  }

  private write(chunk: string): void {
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
