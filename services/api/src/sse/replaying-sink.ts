import type { ServerResponse } from 'node:http';
import { StreamSink } from './stream-sink.js';

/**
 * A stream fed from two sides in any interleaving: the replay of what is stored after the
 * client's cursor, and the live feed. Live events wait in memory while a replay runs and go out
 * after it; `deliver` drops anything at or before what was already sent, so each id goes out once
 * and in order.
 */
export abstract class ReplayingSink<E> extends StreamSink {
  private replaying = 0;
  private buffered: E[] = [];

  protected constructor(res: ServerResponse, maxBufferBytes: number) {
    super(res, maxBufferBytes);
  }

  /** Live events wait in memory until the replay that is running ends. */
  beginReplay(): void {
    this.replaying += 1;
  }

  /** Sends what the replay found, then what arrived live meanwhile. */
  endReplay(events: E[]): void {
    this.replaying = Math.max(0, this.replaying - 1);
    for (const event of events) this.deliver(event);
    if (this.replaying === 0 && this.buffered.length > 0) {
      const pending = this.buffered;
      this.buffered = [];
      for (const event of pending) this.deliver(event);
    }
  }

  /** A live event for this stream. */
  push(event: E): void {
    if (this.closed) return;
    if (this.replaying > 0) {
      this.buffered.push(event);
      return;
    }
    this.deliver(event);
  }

  protected dropPending(): void {
    this.buffered = [];
  }

  /** Writes `event` unless it is at or before what this stream already went past. */
  protected abstract deliver(event: E): void;
}
