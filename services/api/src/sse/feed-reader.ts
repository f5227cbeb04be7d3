import type { LifecycleEvent } from '@jobstream/contracts';
import {
  channelKey,
  decodeFeedEntry,
  decodeFeedPointer,
  decodeHistoryEntry,
  StreamFollower,
  type ChannelRef,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
  type StreamEntry,
} from '@jobstream/runtime';
import { decodeChannelEntries } from '../notifications/channel-events.js';
import type { EventHub } from './event-hub.js';

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
 * Follows the live feed for the whole process with one blocking connection and hands each event
 * of a watched job, and each entry of a followed channel, to the hub. It starts from the feed's
 * concrete newest id (never `$`, which would miss whatever is added before the first read) and
 * only the histories of jobs, and the channels, that someone here watches are read.
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
    const { keys, hub } = this.options;
    // For each watched job, the span of history ids this batch announces; the same for channels.
    const spans = new Map<string, Span>();
    const channelSpans = new Map<ChannelRef, Span>();
    const anyChannel = hub.watchesAnyChannel;
    for (const raw of entries) {
      const entry = decodeFeedEntry(raw);
      if (entry && hub.watches(entry.jobId)) extend(spans, entry.jobId, entry.historyId);
      if (!anyChannel) continue;
      const pointer = decodeFeedPointer(raw);
      if (pointer && hub.watchesChannel(pointer.channel)) extend(channelSpans, pointer.channel, pointer.channelId);
    }
    if (spans.size === 0 && channelSpans.size === 0) return;
    const pipeline = this.options.command.pipeline();
    for (const [jobId, span] of spans) pipeline.xrange(keys.history(jobId), span.from, span.to);
    for (const [channel, span] of channelSpans) pipeline.xrange(channelKey(keys, channel), span.from, span.to);
    const results = (await pipeline.exec()) ?? [];
    let i = 0;
    for (const jobId of spans.keys()) {
      const [err, rows] = results[i++] ?? [null, []];
      if (err) throw err;
      const events: LifecycleEvent[] = [];
      for (const row of rows as StreamEntry[]) {
        try {
          events.push(decodeHistoryEntry(jobId, row));
        } catch (decodeErr) {
          this.log.error({ err: decodeErr, jobId, id: row[0] }, 'skipping an undecodable history entry');
        }
      }
      hub.dispatch(jobId, events);
    }
    for (const channel of channelSpans.keys()) {
      const [err, rows] = results[i++] ?? [null, []];
      if (err) throw err;
      hub.dispatchChannel(channel, decodeChannelEntries(channel, rows as StreamEntry[], this.log));
    }
  }
}

interface Span {
  from: string;
  to: string;
}

function extend<K>(spans: Map<K, Span>, key: K, id: string): void {
  const span = spans.get(key);
  if (span) span.to = id;
  else spans.set(key, { from: id, to: id });
}
