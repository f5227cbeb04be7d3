import { activeTraceparent, compareStreamIds, type ChannelRef } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import { ReplayingSink, type ReplayCounter, type StreamHooks } from '../sse/replaying-sink.js';
import { traceDelivery } from '../sse/trace-delivery.js';
import { eventBody, type ChannelEvent } from './channel-events.js';
import { cursorKeyOf, formatStreamCursor, type StreamCursor } from './stream-cursor.js';
import type { StreamFilter } from './stream-filter.js';

/**
 * One open notification stream: several channels, each with its own position, fed by the replay
 * of each channel and the live feed (see ReplayingSink); per channel it delivers each id once
 * and in order. Each event goes out with the whole cursor as its id.
 */
export class NotificationSubscriber extends ReplayingSink<ChannelEvent> {
  /** Per channel, the last entry delivered or filtered out. */
  private readonly positions = new Map<ChannelRef, string>();
  /** The cursor text the client holds (the last `id:` written). */
  private sentCursor: string | undefined;
  /** The span of the request that opened the stream (made inside it), when tracing is on. */
  private readonly openedBy = activeTraceparent();

  constructor(
    readonly userId: string,
    /** The channels the stream follows, in cursor order. */
    readonly channels: readonly ChannelRef[],
    private readonly filter: StreamFilter,
    res: ServerResponse,
    maxBufferBytes: number,
    replays: ReplayCounter,
    hooks: StreamHooks,
  ) {
    super(res, maxBufferBytes, replays, hooks);
  }

  /** Where the stream is in `channel`. */
  position(channel: ChannelRef): string | undefined {
    return this.positions.get(channel);
  }

  /** Sets where the stream starts (or resumes) in `channel`. */
  setPosition(channel: ChannelRef, id: string): void {
    this.positions.set(channel, id);
  }

  /** The SSE id for the stream's current positions. */
  cursor(): string {
    const cursor: StreamCursor = new Map();
    for (const channel of this.channels) cursor.set(cursorKeyOf(channel), this.positions.get(channel) ?? '0-0');
    return formatStreamCursor(cursor);
  }

  /**
   * The channel's position is no longer covered: the stream goes on from `endId`. The reset
   * carries the new cursor, so a reconnect after it does not run into the same reset again.
   */
  reset(channel: ChannelRef, endId: string): void {
    this.positions.set(channel, endId);
    this.sendWithCursor({
      event: 'reset',
      data: { reason: 'history_unavailable', channel: cursorKeyOf(channel), timestamp: new Date().toISOString() },
    });
  }

  /**
   * Events a filter drops still move the cursor; the heartbeat then carries it, so a reconnect
   * does not replay (and drop again) what this stream already went past.
   */
  heartbeat(timestamp: string): void {
    const cursor = this.cursor();
    this.send({ event: 'heartbeat', data: { timestamp }, ...(cursor !== this.sentCursor ? { id: cursor } : {}) });
    this.sentCursor = cursor;
  }

  /** Writes a connection message with the current cursor as its id. */
  sendWithCursor(message: { event: string; data: unknown; retryMs?: number }): void {
    this.sentCursor = this.cursor();
    this.send({ ...message, id: this.sentCursor });
  }

  protected deliver(event: ChannelEvent): void {
    if (this.closed) return;
    const position = this.positions.get(event.channel);
    if (position !== undefined && compareStreamIds(event.id, position) <= 0) return;
    this.positions.set(event.channel, event.id);
    if (!this.filter(event)) return;
    this.sentCursor = this.cursor();
    const chunk = `id: ${this.sentCursor}\n${eventBody(event)}`;
    if (event.relayTrace) {
      const jobId = typeof event.data.jobId === 'string' ? event.data.jobId : '';
      const attributes = { 'jobstream.stream.kind': 'notifications', 'jobstream.job.id': jobId, 'jobstream.event.name': event.event, 'jobstream.event.id': event.id };
      traceDelivery(event.relayTrace, this.openedBy, attributes, () => {
        this.write(chunk);
        return this;
      });
    } else {
      this.write(chunk);
    }
  }
}
