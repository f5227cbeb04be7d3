import type { LifecycleEvent } from '@jobstream/contracts';
import type { Subscriber } from './subscriber.js';

/**
 * Heartbeats go out in this many slices spread over the interval: one pass over 20,000 streams
 * at once would hold the event loop long enough to delay live events by tens of milliseconds.
 */
const HEARTBEAT_SLICES = 10;

/**
 * The in-process fan-out: which open streams watch which job. One feed reader fills it for the
 * whole process, and one timer sends every heartbeat, so an open stream costs no timer and no
 * Redis connection of its own.
 */
export class EventHub {
  private readonly byJob = new Map<string, Set<Subscriber>>();
  private readonly slices: Set<Subscriber>[] = Array.from({ length: HEARTBEAT_SLICES }, () => new Set());
  private readonly sliceOf = new WeakMap<Subscriber, number>();
  private nextSlice = 0;
  private heartbeatSlice = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private count = 0;
  private readonly dispatchObservers: ((events: LifecycleEvent[]) => void)[] = [];
  /** Live events handed to streams (one per event per stream). */
  delivered = 0;

  constructor(private readonly heartbeatMs: number) {}

  add(subscriber: Subscriber): void {
    let set = this.byJob.get(subscriber.jobId);
    if (!set) {
      set = new Set();
      this.byJob.set(subscriber.jobId, set);
    }
    set.add(subscriber);
    const slice = this.nextSlice++ % HEARTBEAT_SLICES;
    this.slices[slice]?.add(subscriber);
    this.sliceOf.set(subscriber, slice);
    this.count += 1;
    this.heartbeatTimer ??= setInterval(() => this.heartbeat(), this.heartbeatMs / HEARTBEAT_SLICES).unref();
  }

  remove(subscriber: Subscriber): void {
    const set = this.byJob.get(subscriber.jobId);
    if (!set?.delete(subscriber)) return;
    this.slices[this.sliceOf.get(subscriber) ?? 0]?.delete(subscriber);
    this.count -= 1;
    if (set.size === 0) this.byJob.delete(subscriber.jobId);
  }

  /** Whether any stream in this process watches the job. */
  watches(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** Live events for one job, oldest first. */
  dispatch(jobId: string, events: LifecycleEvent[]): void {
    const set = this.byJob.get(jobId);
    if (!set) return;
    for (const subscriber of [...set]) {
      for (const event of events) subscriber.push(event);
      this.delivered += events.length;
    }
    for (const observe of this.dispatchObservers) observe(events);
  }

  /** Calls `observer` with each batch of live events the hub hands out (for delivery metrics). */
  observeDispatch(observer: (events: LifecycleEvent[]) => void): void {
    this.dispatchObservers.push(observer);
  }

  get size(): number {
    return this.count;
  }

  subscribers(): Subscriber[] {
    return [...this.byJob.values()].flatMap((set) => [...set]);
  }

  stop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /**
   * Visits one slice per tick, so each stream is visited once per interval; a stream that was
   * written to since its last visit needs no heartbeat (so a stream is never silent for more
   * than two intervals, well under the usual 60 s proxy idle timeout).
   */
  private heartbeat(): void {
    const slice = this.slices[this.heartbeatSlice++ % HEARTBEAT_SLICES];
    if (!slice || slice.size === 0) return;
    const timestamp = new Date().toISOString();
    for (const subscriber of slice) {
      if (subscriber.open && !subscriber.takeWroteFlag()) {
        subscriber.send({ event: 'heartbeat', data: { jobId: subscriber.jobId, timestamp } });
        subscriber.takeWroteFlag();
      }
    }
  }
}
