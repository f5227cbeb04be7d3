import type { LifecycleEvent } from '@jobstream/contracts';
import {
  channelKey,
  decodeFeedEntry,
  decodeFeedPointer,
  decodeHistoryEntry,
  StreamFollower,
  type ChannelRef,
  type FeedEntry,
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
    // For each watched job, the span of history ids this batch announces, with the events when
    // every entry carried its own (small events do); the span of entry ids for each channel.
    const jobs = new Map<string, JobSpan>();
    const channelSpans = new Map<ChannelRef, Span>();
    const anyChannel = hub.watchesAnyChannel;
    for (const raw of entries) {
      const entry = decodeFeedEntry(raw);
      if (entry && hub.watches(entry.jobId)) this.extendJob(jobs, entry);
      if (!anyChannel) continue;
      const pointer = decodeFeedPointer(raw);
      if (pointer && hub.watchesChannel(pointer.channel)) extend(channelSpans, pointer.channel, pointer.channelId);
    }
    const reads = [...jobs].filter(([, span]) => span.events === undefined);
    for (const [jobId, span] of jobs) if (span.events) hub.dispatch(jobId, span.events);
    if (reads.length === 0 && channelSpans.size === 0) return;
    const pipeline = this.options.command.pipeline();
    for (const [jobId, span] of reads) pipeline.xrange(keys.history(jobId), span.from, span.to);
    for (const [channel, span] of channelSpans) pipeline.xrange(channelKey(keys, channel), span.from, span.to);
    const results = (await pipeline.exec()) ?? [];
    let i = 0;
    for (const [jobId] of reads) {
      const [err, rows] = results[i++] ?? [null, []];
      if (err) throw err;
      hub.dispatch(jobId, (rows as StreamEntry[]).flatMap((row) => this.decode(jobId, row)));
    }
    for (const channel of channelSpans.keys()) {
      const [err, rows] = results[i++] ?? [null, []];
      if (err) throw err;
      hub.dispatchChannel(channel, decodeChannelEntries(channel, rows as StreamEntry[], this.log));
    }
  }

  /** Adds a feed entry to its job's span; an entry without its event makes the whole span a read. */
  private extendJob(jobs: Map<string, JobSpan>, entry: FeedEntry): void {
    let span = jobs.get(entry.jobId);
    if (!span) {
      span = { from: entry.historyId, to: entry.historyId, events: [] };
      jobs.set(entry.jobId, span);
    }
    span.to = entry.historyId;
    if (!span.events) return;
    if (entry.stored) span.events.push(...this.decode(entry.jobId, entry.stored));
    else span.events = undefined;
  }

  private decode(jobId: string, row: StreamEntry): LifecycleEvent[] {
    try {
      return [decodeHistoryEntry(jobId, row)];
    } catch (err) {
      this.log.error({ err, jobId, id: row[0] }, 'skipping an undecodable history entry');
      return [];
    }
  }
}

interface JobSpan extends Span {
  /** The events of the span, when the feed carried every one of them. */
  events: LifecycleEvent[] | undefined;
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
