import { isTerminalEvent, type LifecycleEvent } from '@jobstream/contracts';
import { compareStreamIds } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import { formatLifecycleEvent } from './sse-format.js';
import { StreamSink, type CloseReason } from './stream-sink.js';

export type { CloseReason } from './stream-sink.js';

/**
 * One open stream of one job. Lifecycle events reach it from two sides, the replay of the job's
 * history and the live feed, in any interleaving; it delivers each id once and in order by
 * buffering live events while a replay runs and dropping anything at or before the last id sent.
 */
export class Subscriber extends StreamSink {
  lastSentId: string | undefined;
  private replaying = 0;
  private buffered: LifecycleEvent[] = [];

  constructor(
    readonly jobId: string,
    res: ServerResponse,
    maxBufferBytes: number,
    private readonly onClose: (subscriber: Subscriber, reason: CloseReason) => void,
  ) {
    super(res, maxBufferBytes);
  }

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

  heartbeat(timestamp: string): void {
    this.send({ event: 'heartbeat', data: { jobId: this.jobId, timestamp } });
  }

  protected onClosed(reason: CloseReason): void {
    this.onClose(this, reason);
  }

  protected dropPending(): void {
    this.buffered = [];
  }

  private deliver(event: LifecycleEvent): void {
    if (this.closed) return;
    if (this.lastSentId !== undefined && compareStreamIds(event.id, this.lastSentId) <= 0) return;
    this.lastSentId = event.id;
    this.write(formatLifecycleEvent(event));
    if (isTerminalEvent(event)) this.close('terminal');
  }
}
