import { compareStreamIds, type ChannelRef } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import { StreamSink, type CloseReason } from '../sse/stream-sink.js';
import { eventBody, type ChannelEvent } from './channel-events.js';
import { cursorKeyOf, formatStreamCursor, type StreamCursor } from './stream-cursor.js';
import type { StreamFilter } from './stream-filter.js';

/**
 * One open notification stream: several channels, each with its own position. Events reach it
 * from the replay of each channel and from the live feed in any interleaving; per channel it
 * delivers each id once and in order, by buffering live events while a replay runs and dropping
 * anything at or before the channel's position (exactly as a job stream's Subscriber does for
 * one history). Each event goes out with the whole cursor as its id.
 */
export class NotificationSubscriber extends StreamSink {
  /** Per channel, the last entry delivered or filtered out. */
  private readonly positions = new Map<ChannelRef, string>();
  private replaying = 0;
  private buffered: ChannelEvent[] = [];
  /** The cursor text the client holds (the last `id:` written). */
  private sentCursor: string | undefined;

  constructor(
    readonly userId: string,
    /** The channels the stream follows, in cursor order. */
    readonly channels: readonly ChannelRef[],
    private readonly filter: StreamFilter,
    res: ServerResponse,
    maxBufferBytes: number,
    private readonly onClose: (subscriber: NotificationSubscriber, reason: CloseReason) => void,
  ) {
    super(res, maxBufferBytes);
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

  /** Live events wait in memory until the replay that is running ends. */
  beginReplay(): void {
    this.replaying += 1;
  }

  /** Sends what the replay found, then what arrived live meanwhile. */
  endReplay(events: ChannelEvent[]): void {
    this.replaying = Math.max(0, this.replaying - 1);
    for (const event of events) this.deliver(event);
    if (this.replaying === 0 && this.buffered.length > 0) {
      const pending = this.buffered;
      this.buffered = [];
      for (const event of pending) this.deliver(event);
    }
  }

  /** A live event of one of the stream's channels. */
  push(event: ChannelEvent): void {
    if (this.closed) return;
    if (this.replaying > 0) {
      this.buffered.push(event);
      return;
    }
    this.deliver(event);
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

  protected onClosed(reason: CloseReason): void {
    this.onClose(this, reason);
  }

  protected dropPending(): void {
    this.buffered = [];
  }

  private deliver(event: ChannelEvent): void {
    if (this.closed) return;
    const position = this.positions.get(event.channel);
    if (position !== undefined && compareStreamIds(event.id, position) <= 0) return;
    this.positions.set(event.channel, event.id);
    if (!this.filter(event)) return;
    this.sentCursor = this.cursor();
    this.write(`id: ${this.sentCursor}\n${eventBody(event)}`);
  }
}
