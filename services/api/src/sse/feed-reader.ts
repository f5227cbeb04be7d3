import type { LifecycleEvent } from '@jobstream/contracts';
import {
  decodeFeedEntry,
  decodeHistoryEntry,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
} from '@jobstream/runtime';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventHub } from './event-hub.js';

export interface FeedReaderOptions {
  /** Dedicated to the blocking XREAD. */
  blocking: RedisClient;
  /** Reads the histories of watched jobs. */
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

type RawEntry = [string, string[]];

/**
 * Follows the live feed for the whole process with one blocking connection and hands each event
 * of a watched job to the hub. It starts from the feed's concrete newest id (never `$`, which
 * would miss whatever is added before the first read) and only events of jobs that someone here
 * watches are read from their histories.
 */
export class FeedReader {
  private cursor = '0-0';
  private stopping = false;
  private running: Promise<void> | undefined;
  private resyncNeeded = false;
  private readonly log: Logger;
  /** Time from the event's creation to its hand-off to the hub, for the most recent batch. */
  lastLagMs = 0;

  constructor(private readonly options: FeedReaderOptions) {
    this.log = options.logger.child({ component: 'feed-reader' });
    let connectedOnce = false;
    options.blocking.on('ready', () => {
      if (connectedOnce) this.resyncNeeded = true;
      connectedOnce = true;
    });
  }

  /** Resolves the starting cursor, then follows the feed in the background. */
  async start(): Promise<void> {
    const newest = (await this.options.command.xrevrange(this.options.keys.feed, '+', '-', 'COUNT', 1)) as RawEntry[];
    this.cursor = newest[0]?.[0] ?? '0-0';
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.options.blocking.disconnect();
    await this.running;
  }

  private async loop(): Promise<void> {
    let backoffMs = 100;
    while (!this.stopping) {
      try {
        if (this.resyncNeeded) {
          this.resyncNeeded = false;
          this.log.info('redis is back; replaying open streams from their cursors');
          await this.options.onResync();
        }
        await this.readOnce();
        backoffMs = 100;
      } catch (err) {
        if (this.stopping) break;
        this.resyncNeeded = true;
        this.log.warn({ err: (err as Error).message }, 'feed read failed; retrying');
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }

  private async readOnce(): Promise<void> {
    const { blocking, keys, hub } = this.options;
    const reply = (await blocking.xread(
      'COUNT',
      this.options.batchSize ?? 1_000,
      'BLOCK',
      this.options.blockMs ?? 5_000,
      'STREAMS',
      keys.feed,
      this.cursor,
    )) as [string, RawEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    if (!last) return;

    // For each watched job, the span of history ids this batch announces.
    const spans = new Map<string, { from: string; to: string }>();
    for (const raw of entries) {
      const entry = decodeFeedEntry(raw);
      if (!entry || !hub.watches(entry.jobId)) continue;
      const span = spans.get(entry.jobId);
      if (span) span.to = entry.historyId;
      else spans.set(entry.jobId, { from: entry.historyId, to: entry.historyId });
    }
    if (spans.size > 0) {
      const pipeline = this.options.command.pipeline();
      for (const [jobId, span] of spans) pipeline.xrange(keys.history(jobId), span.from, span.to);
      const results = (await pipeline.exec()) ?? [];
      let i = 0;
      for (const jobId of spans.keys()) {
        const [err, rows] = results[i++] ?? [null, []];
        if (err) throw err;
        const events: LifecycleEvent[] = [];
        for (const row of rows as RawEntry[]) {
          try {
            events.push(decodeHistoryEntry(row));
          } catch (decodeErr) {
            this.log.error({ err: decodeErr, jobId, id: row[0] }, 'skipping an undecodable history entry');
          }
        }
        hub.dispatch(jobId, events);
      }
    }
    this.lastLagMs = Date.now() - Number(last[0].split('-')[0]);
    this.cursor = last[0];
  }
}
