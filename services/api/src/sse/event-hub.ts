import type { LifecycleEvent } from '@jobstream/contracts';
import type { ChannelEvent } from '../notifications/channel-events.js';
import type { NotificationSubscriber } from '../notifications/notification-subscriber.js';
import type { ReplayCounter } from './replaying-sink.js';
import type { StreamSink } from './stream-sink.js';
import type { Subscriber } from './subscriber.js';

/**
 * Heartbeats go out in this many slices spread over the interval: one pass over 20,000 streams
 * at once would hold the event loop long enough to delay live events by tens of milliseconds.
 */
const HEARTBEAT_SLICES = 10;

/**
 * The in-process fan-out: which open streams watch which job, and which notification streams
 * follow which channel. One feed reader fills it for the whole process, and one timer sends every
 * heartbeat, so an open stream costs no timer and no Redis connection of its own.
 */
export class EventHub {
  private readonly byJob = new Map<string, Set<Subscriber>>();
  private readonly byChannel = new Map<string, Set<NotificationSubscriber>>();
  private readonly slices: Set<StreamSink>[] = Array.from({ length: HEARTBEAT_SLICES }, () => new Set());
  private readonly sliceOf = new WeakMap<StreamSink, number>();
  private nextSlice = 0;
  private heartbeatSlice = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private count = 0;
  private readonly dispatchObservers: ((events: LifecycleEvent[]) => void)[] = [];
  /** Live events handed to streams (one per event per stream). */
  delivered = 0;
  /** Replays running in this process: each stream of the hub counts itself here while it replays. */
  readonly replays: ReplayCounter = { running: 0 };

  constructor(private readonly heartbeatMs: number) {}

  add(subscriber: Subscriber): void {
    let set = this.byJob.get(subscriber.jobId);
    if (!set) {
      set = new Set();
      this.byJob.set(subscriber.jobId, set);
    }
    set.add(subscriber);
    this.track(subscriber);
  }

  remove(subscriber: Subscriber): void {
    const set = this.byJob.get(subscriber.jobId);
    if (!set?.delete(subscriber)) return;
    this.untrack(subscriber);
    if (set.size === 0) this.byJob.delete(subscriber.jobId);
  }

  /** Adds a notification stream under each channel it follows. */
  addNotificationStream(subscriber: NotificationSubscriber): void {
    for (const channel of subscriber.channels) {
      let set = this.byChannel.get(channel);
      if (!set) {
        set = new Set();
        this.byChannel.set(channel, set);
      }
      set.add(subscriber);
    }
    this.track(subscriber);
  }

  removeNotificationStream(subscriber: NotificationSubscriber): void {
    let removed = false;
    for (const channel of subscriber.channels) {
      const set = this.byChannel.get(channel);
      if (!set?.delete(subscriber)) continue;
      removed = true;
      if (set.size === 0) this.byChannel.delete(channel);
    }
    if (removed) this.untrack(subscriber);
  }

  /** Whether any stream in this process watches the job. */
  watches(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** Whether any notification stream in this process follows the channel (`u:<user>`, `t:<topic>`, `s`). */
  watchesChannel(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  /** Whether any notification stream is open here at all (the feed reader skips channel pointers otherwise). */
  get watchesAnyChannel(): boolean {
    return this.byChannel.size > 0;
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

  /** Live events of one channel, oldest first. */
  dispatchChannel(channel: string, events: ChannelEvent[]): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    for (const subscriber of [...set]) {
      for (const event of events) subscriber.push(event);
      this.delivered += events.length;
    }
  }

  /** Calls `observer` with each batch of live job events the hub hands out (for delivery metrics). */
  observeDispatch(observer: (events: LifecycleEvent[]) => void): void {
    this.dispatchObservers.push(observer);
  }

  /** Open streams of every kind. */
  get size(): number {
    return this.count;
  }

  /** The open job streams. */
  subscribers(): Subscriber[] {
    return [...this.byJob.values()].flatMap((set) => [...set]);
  }

  /** The open notification streams. */
  notificationSubscribers(): NotificationSubscriber[] {
    const all = new Set<NotificationSubscriber>();
    for (const set of this.byChannel.values()) for (const subscriber of set) all.add(subscriber);
    return [...all];
  }

  /** Every open stream, whatever it carries (for shutdown). */
  streams(): StreamSink[] {
    return this.slices.flatMap((slice) => [...slice]);
  }

  /**
   * Bytes written to the open streams that their sockets have not handed to the kernel yet: what
   * clients that do not read make this process hold (each stream at most about the cap plus one
   * replay page).
   */
  queuedBytes(): number {
    let bytes = 0;
    for (const slice of this.slices) for (const sink of slice) bytes += sink.queuedBytes;
    return bytes;
  }

  stop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private track(sink: StreamSink): void {
    const slice = this.nextSlice++ % HEARTBEAT_SLICES;
    this.slices[slice]?.add(sink);
    this.sliceOf.set(sink, slice);
    this.count += 1;
    this.heartbeatTimer ??= setInterval(() => this.heartbeat(), this.heartbeatMs / HEARTBEAT_SLICES).unref();
  }

  private untrack(sink: StreamSink): void {
    if (this.slices[this.sliceOf.get(sink) ?? 0]?.delete(sink)) this.count -= 1;
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
    for (const sink of slice) {
      if (sink.open && !sink.takeWroteFlag()) {
        sink.heartbeat(timestamp);
        sink.takeWroteFlag();
      }
    }
  }
}
