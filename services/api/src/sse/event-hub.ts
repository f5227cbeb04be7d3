import type { LifecycleEvent } from '@jobstream/contracts';
import type { ChannelRef } from '@jobstream/runtime';
import { isJobChannel, type HubChannel, type JobChannelRef } from './hub-channel.js';
import type { ChannelEvent } from '../notifications/channel-events.js';
import type { NotificationSubscriber } from '../notifications/notification-subscriber.js';
import type { ReplayCounter, ReplayingSink } from './replaying-sink.js';
import type { Subscriber } from './subscriber.js';

/** Every kind of stream the hub feeds; each names the channels it follows. */
export type HubStream = Subscriber | NotificationSubscriber;

/** An event of the hub, with the id it has in its channel. */
type HubEvent = LifecycleEvent | ChannelEvent;

/**
 * Heartbeats go out in this many slices spread over the interval: one pass over 20,000 streams
 * at once would hold the event loop long enough to delay live events by tens of milliseconds.
 */
const HEARTBEAT_SLICES = 10;

/**
 * The in-process fan-out: which open streams follow which channel. A job stream follows its job's
 * channel, a notification stream its user's channel, its topics and (for admins) the system
 * channel; one feed reader fills the hub for the whole process, and one timer sends every
 * heartbeat, so an open stream costs no timer and no Redis connection of its own.
 */
export class EventHub {
  private readonly byChannel = new Map<HubChannel, Set<HubStream>>();
  /** Channels in `byChannel` that are not job channels (the feed reader skips channel pointers while there are none). */
  private notificationChannels = 0;
  private readonly slices: Set<HubStream>[] = Array.from({ length: HEARTBEAT_SLICES }, () => new Set());
  private readonly sliceOf = new WeakMap<HubStream, number>();
  private nextSlice = 0;
  private heartbeatSlice = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private count = 0;
  private readonly dispatchObservers: ((events: readonly { id: string }[]) => void)[] = [];
  /** Live events handed to streams (one per event per stream; `jobstream_sse_events_delivered_total`). */
  delivered = 0;
  /** Replays running in this process: each stream of the hub counts itself here while it replays. */
  readonly replays: ReplayCounter = { running: 0 };

  constructor(private readonly heartbeatMs: number) {}

  /** Adds a stream under each channel it follows. */
  add(stream: HubStream): void {
    for (const channel of stream.channels) {
      let set = this.byChannel.get(channel);
      if (!set) {
        set = new Set();
        this.byChannel.set(channel, set);
        if (!isJobChannel(channel)) this.notificationChannels += 1;
      }
      set.add(stream);
    }
    this.track(stream);
  }

  remove(stream: HubStream): void {
    let removed = false;
    for (const channel of stream.channels) {
      const set = this.byChannel.get(channel);
      if (!set?.delete(stream)) continue;
      removed = true;
      if (set.size > 0) continue;
      this.byChannel.delete(channel);
      if (!isJobChannel(channel)) this.notificationChannels -= 1;
    }
    if (removed) this.untrack(stream);
  }

  /** Whether any stream in this process follows the channel. */
  watches(channel: HubChannel): boolean {
    return this.byChannel.has(channel);
  }

  /** Whether any notification stream is open here at all (the feed reader skips channel pointers otherwise). */
  get watchesAnyNotificationChannel(): boolean {
    return this.notificationChannels > 0;
  }

  /** Live events of one channel, oldest first. */
  dispatch(channel: JobChannelRef, events: LifecycleEvent[]): void;
  dispatch(channel: ChannelRef, events: ChannelEvent[]): void;
  dispatch(channel: HubChannel, events: HubEvent[]): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    for (const stream of [...set]) {
      // The overloads pair each channel with its streams' event type.
      const sink = stream as ReplayingSink<HubEvent>;
      for (const event of events) sink.push(event);
      this.delivered += events.length;
    }
    for (const observe of this.dispatchObservers) observe(events);
  }

  /** Calls `observer` with each batch of live events the hub hands out (for delivery metrics). */
  observeDispatch(observer: (events: readonly { id: string }[]) => void): void {
    this.dispatchObservers.push(observer);
  }

  /** Open streams of every kind. */
  get size(): number {
    return this.count;
  }

  /** Every open stream, whatever it carries (for resyncs and shutdown). */
  streams(): HubStream[] {
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

  private track(sink: HubStream): void {
    const slice = this.nextSlice++ % HEARTBEAT_SLICES;
    this.slices[slice]?.add(sink);
    this.sliceOf.set(sink, slice);
    this.count += 1;
    this.heartbeatTimer ??= setInterval(() => this.heartbeat(), this.heartbeatMs / HEARTBEAT_SLICES).unref();
  }

  private untrack(sink: HubStream): void {
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
