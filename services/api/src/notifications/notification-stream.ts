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
import type { ServerResponse } from 'node:http';
import { hasRole, type Principal } from '../auth/principal.js';
import type { EventHub } from '../sse/event-hub.js';
import { REPLAY_PAGE_SIZE, type ReplayPage } from '../sse/replaying-sink.js';
import { closeAfterReplayFailure, joinHub, startSse } from '../sse/stream-lifecycle.js';
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
  /** Called when a stream closes, with its response (for its request's log lines). */
  onClose?: (reason: CloseReason, res: ServerResponse) => void;
}

/** The channels a caller's stream follows: their own, the system channel for admins, and the topics asked for. */
export function channelsFor(viewer: Principal, topics: readonly string[] = []): ChannelRef[] {
  return [userChannelRef(viewer.userId), ...(hasRole(viewer, 'admin') ? [SYSTEM_CHANNEL] : []), ...[...new Set(topics)].sort().map(topicChannelRef)];
}

/** A page of every channel still to replay: its events, and the channels whose position is no longer covered. */
interface ChannelPage {
  events: ChannelEvent[];
  /** Each goes on from `endId`, its end, after a `reset`. */
  resets: { channel: ChannelRef; endId: string }[];
}

/**
 * Reads the next page of each channel in `pending` (channel → position to read after; undefined
 * starts the channel at its end) in one transaction. A channel leaves `pending` once it reached its
 * end or is not covered; the others move on to the last entry read. The coverage rule is checked on
 * every page, so an entry trimmed between two pages is a `reset`, never a silent gap.
 */
async function readChannelPage(deps: NotificationStreamDeps, subscriber: NotificationSubscriber, pending: Map<ChannelRef, string | undefined>): Promise<ChannelPage> {
  const channels = [...pending.keys()];
  const reads = await readChannels(
    deps.redis,
    channels.map((channel) => ({ key: channelKey(deps.keys, channel), afterId: pending.get(channel) })),
    REPLAY_PAGE_SIZE,
  );
  const page: ChannelPage = { events: [], resets: [] };
  channels.forEach((channel, i) => {
    const read = reads[i];
    if (!read) return;
    if (pending.get(channel) === undefined) {
      subscriber.setPosition(channel, read.endId);
      pending.delete(channel);
    } else if (!read.covered) {
      page.resets.push({ channel, endId: read.endId });
      pending.delete(channel);
    } else {
      page.events.push(...decodeChannelEntries(channel, read.entries, deps.logger));
      const last = read.entries.at(-1);
      if (read.entries.length < REPLAY_PAGE_SIZE || !last) pending.delete(channel);
      else pending.set(channel, last[0]);
    }
  });
  return page;
}

/**
 * Replays every channel after the stream's positions (or what `pending` still holds of a replay
 * begun by the caller), page by page as the client reads, then goes live. A `missed` round (live
 * events dropped while the client did not read) starts again from the positions.
 */
function replayChannels(
  deps: NotificationStreamDeps,
  subscriber: NotificationSubscriber,
  pending = new Map<ChannelRef, string | undefined>(),
  first?: ReplayPage<ChannelEvent>,
): Promise<void> {
  return subscriber.replay(
    async () => {
      if (pending.size === 0) for (const channel of subscriber.channels) pending.set(channel, subscriber.position(channel) ?? '0-0');
      const page = await readChannelPage(deps, subscriber, pending);
      for (const { channel, endId } of page.resets) subscriber.reset(channel, endId);
      return { events: page.events, end: pending.size === 0 };
    },
    (err) => closeAfterReplayFailure(subscriber, deps.logger, deps.retryMs, err, { userId: subscriber.userId }),
    first,
  );
}

/**
 * Opens the notification stream of `viewer`: `connected` (with the cursor as its id), a `reset`
 * for each channel whose position is not covered, every stored event after the cursor (page by
 * page, as the client reads), then live events. The subscriber joins the hub before the channels
 * are read, so nothing falls between. Without a cursor the stream starts at each channel's end; a
 * channel the cursor does not name (a topic added since) starts at its end too.
 */
export async function openNotificationStream(
  deps: NotificationStreamDeps,
  res: ServerResponse,
  viewer: Principal,
  query: NotificationStreamQuery,
  cursor: StreamCursor | undefined,
): Promise<void> {
  const channels = channelsFor(viewer, query.topics);
  const subscriber: NotificationSubscriber = new NotificationSubscriber(viewer.userId, channels, createStreamFilter(query), res, deps.maxBufferBytes, deps.hub.replays, {
    onClose: (reason) => {
      deps.hub.remove(subscriber);
      deps.onClose?.(reason, res);
    },
    resync: () => replayChannels(deps, subscriber),
  });
  joinHub(deps.hub, subscriber);

  const pending = new Map<ChannelRef, string | undefined>();
  for (const channel of channels) {
    const position = cursor?.get(cursorKeyOf(channel));
    if (position !== undefined) subscriber.setPosition(channel, position);
    pending.set(channel, position);
  }
  const [{ events, resets }, unreadCount] = await Promise.all([readChannelPage(deps, subscriber, pending), deps.inbox.unreadCount(viewer.userId)]);

  startSse(subscriber);
  subscriber.sendWithCursor({
    event: 'connected',
    data: { userId: viewer.userId, timestamp: new Date().toISOString(), unreadCount, channels: channels.map(cursorKeyOf) },
    retryMs: deps.retryMs,
  });
  for (const { channel, endId } of resets) subscriber.reset(channel, endId);
  await replayChannels(deps, subscriber, pending, { events, end: pending.size === 0 });
}
