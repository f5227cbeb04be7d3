import type { NotificationStreamQuery } from '@jobstream/contracts';
import {
  channelKey,
  readChannels,
  SYSTEM_CHANNEL,
  topicChannelRef,
  userChannelRef,
  type ChannelRef,
  type InboxStore,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
} from '@jobstream/runtime';
import type { Response } from 'express';
import { hasRole, type Principal } from '../auth/principal.js';
import type { EventHub } from '../sse/event-hub.js';
import { SSE_HEADERS } from '../sse/sse-format.js';
import type { CloseReason } from '../sse/stream-sink.js';
import { decodeChannelEntries, type ChannelEvent } from './channel-events.js';
import { NotificationSubscriber } from './notification-subscriber.js';
import { cursorKeyOf, type StreamCursor } from './stream-cursor.js';
import { createStreamFilter } from './stream-filter.js';

export interface NotificationStreamDeps {
  redis: RedisClient;
  keys: JobstreamKeys;
  hub: EventHub;
  inbox: InboxStore;
  logger: Logger;
  retryMs: number;
  maxBufferBytes: number;
  onClose?: (reason: CloseReason) => void;
}

/** The channels a caller's stream follows: their own, the system channel for admins, and the topics asked for. */
export function channelsFor(viewer: Principal, topics: readonly string[] = []): ChannelRef[] {
  return [userChannelRef(viewer.userId), ...(hasRole(viewer, 'admin') ? [SYSTEM_CHANNEL] : []), ...[...new Set(topics)].sort().map(topicChannelRef)];
}

/**
 * Reads every channel of the stream after its position: events to replay, and the channels whose
 * position is no longer covered (they go on from their end after a `reset`).
 * `from` gives the position to read after; undefined starts the channel at its end.
 */
async function catchUp(
  deps: NotificationStreamDeps,
  subscriber: NotificationSubscriber,
  from: (channel: ChannelRef) => string | undefined,
): Promise<{ events: ChannelEvent[]; resets: { channel: ChannelRef; endId: string }[] }> {
  const positions = subscriber.channels.map(from);
  const reads = await readChannels(
    deps.redis,
    subscriber.channels.map((channel, i) => ({ key: channelKey(deps.keys, channel), afterId: positions[i] })),
  );
  const events: ChannelEvent[] = [];
  const resets: { channel: ChannelRef; endId: string }[] = [];
  subscriber.channels.forEach((channel, i) => {
    const read = reads[i];
    if (!read) return;
    const position = positions[i];
    if (position === undefined) subscriber.setPosition(channel, read.endId);
    else if (!read.covered) resets.push({ channel, endId: read.endId });
    else events.push(...decodeChannelEntries(channel, read.entries, deps.logger));
  });
  return { events, resets };
}

/**
 * Opens the notification stream of `viewer`: `connected` (with the cursor as its id), a `reset`
 * for each channel whose position is not covered, every stored event after the cursor, then live
 * events. The subscriber joins the hub before the channels are read, so nothing falls between.
 * Without a cursor the stream starts at each channel's end; a channel the cursor does not name
 * (a topic added since) starts at its end too.
 */
export async function openNotificationStream(
  deps: NotificationStreamDeps,
  res: Response,
  viewer: Principal,
  query: NotificationStreamQuery,
  cursor: StreamCursor | undefined,
): Promise<void> {
  const channels = channelsFor(viewer, query.topics);
  const subscriber = new NotificationSubscriber(viewer.userId, channels, createStreamFilter(query), res, deps.maxBufferBytes, (sub, reason) => {
    deps.hub.removeNotificationStream(sub);
    deps.onClose?.(reason);
  });
  subscriber.beginReplay();
  deps.hub.addNotificationStream(subscriber);
  // Also covers the paths below that answer with an error instead of a stream.
  res.on('close', () => subscriber.close('client_gone'));

  const [{ events, resets }, unreadCount] = await Promise.all([
    catchUp(deps, subscriber, (channel) => {
      const position = cursor?.get(cursorKeyOf(channel));
      if (position !== undefined) subscriber.setPosition(channel, position);
      return position;
    }),
    deps.inbox.unreadCount(viewer.userId),
  ]);

  res.writeHead(200, SSE_HEADERS);
  res.socket?.setNoDelay(true);
  subscriber.open = true;
  subscriber.sendWithCursor({
    event: 'connected',
    data: { userId: viewer.userId, timestamp: new Date().toISOString(), unreadCount, channels: channels.map(cursorKeyOf) },
    retryMs: deps.retryMs,
  });
  for (const { channel, endId } of resets) subscriber.reset(channel, endId);
  subscriber.endReplay(events);
}

/** Brings an open notification stream up to date after the live feed may have missed events (Redis outage). */
export async function resyncNotificationStream(deps: NotificationStreamDeps, subscriber: NotificationSubscriber): Promise<void> {
  if (subscriber.closed) return;
  subscriber.beginReplay();
  try {
    const { events, resets } = await catchUp(deps, subscriber, (channel) => subscriber.position(channel) ?? '0-0');
    for (const { channel, endId } of resets) subscriber.reset(channel, endId);
    subscriber.endReplay(events);
  } catch (err) {
    subscriber.endReplay([]);
    throw err;
  }
}
