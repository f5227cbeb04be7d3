import type { LifecycleEvent } from '@jobstream/contracts';
import {
  decodeFeedEntry,
  decodeFeedPointer,
  decodeHistoryEntry,
  StreamFollower,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
  type StreamEntry,
} from '@jobstream/runtime';
import { decodeChannelEntries } from '../notifications/channel-events.js';
import type { EventHub } from './event-hub.js';
import { isJobChannel, jobChannelRef, jobIdOf, readHubChannel, type HubChannel } from './hub-channel.js';

export interface FeedReaderOptions {
  /** Dedicated to the blocking XREAD. */
  blocking: RedisClient;
  /** Reads the histories of watched jobs and the channels of open notification streams. */
  command: RedisClient;
  keys: JobstreamKeys;
  hub: EventHub;
  logger: Logger;
  /** Called after Redis came back, when live events may have been missed; the streams replay from their cursors. */
  onResync: () => Promise<void>;
  /** How long one XREAD blocks. Default 5 s. */
  blockMs?: number;
  /** Entries per XREAD. Default 1000. */
  batchSize?: number;
}

/**
 * Follows the live feed for the whole process with one blocking connection and hands the entries
 * of each followed channel (a job's history, a user's or a topic's channel) to the hub. It starts from the feed's
 * concrete newest id (never `$`, which would miss whatever is added before the first read) and
 * only the channels someone here follows are read.
 */
export class FeedReader {
  private readonly log: Logger;
  private readonly follower: StreamFollower;

  constructor(private readonly options: FeedReaderOptions) {
    this.log = options.logger.child({ component: 'feed-reader' });
    this.follower = new StreamFollower({
      blocking: options.blocking,
      key: options.keys.feed,
      logger: this.log,
      batchSize: options.batchSize ?? 1_000,
      blockMs: options.blockMs ?? 5_000,
      onBatch: (entries) => this.dispatch(entries),
      onRecover: async () => {
        this.log.info('redis is back; replaying open streams from their cursors');
        await options.onResync();
      },
    });
  }

  /** Resolves the starting cursor, then follows the feed in the background. */
  async start(): Promise<void> {
    const newest = (await this.options.command.xrevrange(this.options.keys.feed, '+', '-', 'COUNT', 1)) as StreamEntry[];
    this.follower.start(newest[0]?.[0] ?? '0-0');
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  private async dispatch(entries: StreamEntry[]): Promise<void> {
    const { hub } = this.options;
    // For each followed channel, the span of its entry ids this batch announces, with the entries
    // themselves when the feed carried every one of them (a job's small events).
    const spans = new Map<HubChannel, Span>();
    const anyNotificationChannel = hub.watchesAnyNotificationChannel;
    for (const raw of entries) {
      const entry = decodeFeedEntry(raw);
      if (entry) {
        const channel = jobChannelRef(entry.jobId);
        if (hub.watches(channel)) extend(spans, channel, entry.historyId, entry.stored);
      }
      if (!anyNotificationChannel) continue;
      const pointer = decodeFeedPointer(raw);
      if (pointer && hub.watches(pointer.channel)) extend(spans, pointer.channel, pointer.channelId, undefined);
    }
    const reads: HubChannel[] = [];
    for (const [channel, span] of spans) {
      if (span.carried) this.deliver(channel, span.carried);
      else reads.push(channel);
    }
    if (reads.length === 0) return;
    const { command, keys } = this.options;
    const rows = await Promise.all(
      reads.map((channel) => {
        const span = spans.get(channel) as Span;
        return readHubChannel(command, keys, channel, span.from, span.to);
      }),
    );
    reads.forEach((channel, i) => this.deliver(channel, rows[i] ?? []));
  }

  /** Decodes a channel's entries and hands them to the hub; an entry that does not decode is logged and skipped. */
  private deliver(channel: HubChannel, rows: StreamEntry[]): void {
    if (!isJobChannel(channel)) {
      this.options.hub.dispatch(channel, decodeChannelEntries(channel, rows, this.log));
      return;
    }
    const jobId = jobIdOf(channel);
    const events: LifecycleEvent[] = [];
    for (const row of rows) {
      try {
        events.push(decodeHistoryEntry(jobId, row));
      } catch (err) {
        this.log.error({ err, jobId, id: row[0] }, 'skipping an undecodable history entry');
      }
    }
    this.options.hub.dispatch(channel, events);
  }
}

interface Span {
  from: string;
  to: string;
  /** The entries of the span, while the feed carried every one of them. */
  carried: StreamEntry[] | undefined;
}

/** Adds an entry to its channel's span; an entry the feed did not carry makes the whole span a read. */
function extend(spans: Map<HubChannel, Span>, channel: HubChannel, id: string, carried: StreamEntry | undefined): void {
  const span = spans.get(channel);
  if (!span) {
    spans.set(channel, { from: id, to: id, carried: carried ? [carried] : undefined });
    return;
  }
  span.to = id;
  if (span.carried && carried) span.carried.push(carried);
  else span.carried = undefined;
}
