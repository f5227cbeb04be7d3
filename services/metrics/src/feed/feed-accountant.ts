import type { LifecycleEvent } from '@jobstream/contracts';
import {
  compareStreamIds,
  decodeFeedEntry,
  decodeHistoryEntry,
  HISTORY_FIELDS,
  isCursorCovered,
  readFields,
  readHistoryEntries,
  readStreamBounds,
  StreamFollower,
  streamIdMs as msOf,
  type FeedEntry,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
  type StreamEntry as RawEntry,
} from '@jobstream/runtime';
import type { BudgetKeeper } from '../budget/budget-keeper.js';
import type { MetricsRegistry } from '../prom/metrics-registry.js';
import { applyOutcomes, type OutcomeEntry } from './outcome-window.js';

export interface FeedAccountantOptions {
  /** Dedicated to the blocking XREAD. */
  blocking: RedisClient;
  command: RedisClient;
  keys: JobstreamKeys;
  budget: BudgetKeeper;
  metrics: MetricsRegistry;
  logger: Logger;
  /** The failure-rate window: how long outcome buckets are kept. */
  windowMs: number;
  /** Entries per XREAD. Default 500. */
  batchSize?: number;
  /** How long one XREAD blocks. Default 2 s. */
  blockMs?: number;
}

interface FeedEvent {
  feedId: string;
  jobId: string;
  event: LifecycleEvent;
}

/**
 * Follows the live feed the relay writes (the same one the api replicas fan out) and accounts
 * for each lifecycle event: outcome counts for the failure rate, the budget charge of completed
 * jobs, and the wait/processing histograms. It resumes from a cursor kept in Redis, so a restart
 * neither skips events nor counts them twice (see `applyOutcomes` and `chargeJob`).
 */
export class FeedAccountant {
  private readonly log: Logger;
  private readonly follower: StreamFollower;

  constructor(private readonly options: FeedAccountantOptions) {
    this.log = options.logger.child({ component: 'feed-accountant' });
    this.follower = new StreamFollower({
      blocking: options.blocking,
      key: options.keys.feed,
      logger: this.log,
      batchSize: options.batchSize ?? 500,
      blockMs: options.blockMs ?? 2_000,
      onBatch: (entries) => this.account(entries, entries[entries.length - 1]![0]),
    });
  }

  async start(): Promise<void> {
    const { command, keys } = this.options;
    const cursor = (await command.get(keys.metricsCursor)) ?? '0-0';
    const bounds = await readStreamBounds(command, keys.feed);
    // A first start (0-0) or no feed yet: nothing to miss. Otherwise the coverage rule every stream reader shares.
    if (cursor !== '0-0' && bounds && !isCursorCovered(cursor, bounds)) {
      this.log.error({ cursor, oldest: bounds.firstId }, 'feed entries were trimmed before they were accounted for; spend and failure counts miss them (raise FEED_MAX_LEN)');
    }
    this.log.info({ cursor }, 'following the live feed');
    this.follower.start(cursor);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  /** Accounts for one batch of feed entries. */
  private async account(entries: RawEntry[], lastFeedId: string): Promise<void> {
    const { command, keys, metrics, budget } = this.options;
    const events = await this.readEvents(entries);
    const types = await this.jobTypes(events);
    const waits = await this.waitTimes(events);

    // Charges first: they are idempotent on their own, so a crash before the cursor moves is harmless.
    for (const { jobId, event } of events) {
      if (event.event === 'completed') await budget.chargeCompleted(jobId, msOf(event.id), event.data.result);
    }
    const outcomes: OutcomeEntry[] = [];
    for (const { feedId, event } of events) {
      if (event.event === 'completed') outcomes.push({ feedId, at: msOf(event.id), outcome: 'completed' });
      else if (event.event === 'failed' && !event.data.willRetry) outcomes.push({ feedId, at: msOf(event.id), outcome: 'failed' });
    }
    const before = await applyOutcomes(command, keys, this.options.windowMs, lastFeedId, outcomes);

    // In-process metrics only for what this call counted, so two metrics services do not both count.
    for (const { feedId, jobId, event } of events) {
      if (compareStreamIds(feedId, before) <= 0) continue;
      metrics.feedEvents.inc();
      const type = types.get(jobId) ?? 'unknown';
      if (event.event === 'completed') {
        metrics.completed.inc({ type });
        if (event.data.duration !== null) metrics.processingSeconds.observe({ type }, event.data.duration / 1_000);
      } else if (event.event === 'failed' && !event.data.willRetry) {
        metrics.failed.inc({ type });
      } else if (event.event === 'active') {
        const waitMs = waits.get(event.id);
        if (waitMs !== undefined) metrics.waitSeconds.observe({ type }, waitMs / 1_000);
      }
    }
  }

  /** The history entries the feed points at (carried along or read); entries whose history expired are skipped. */
  private async readEvents(entries: RawEntry[]): Promise<FeedEvent[]> {
    const decoded = entries.map(decodeFeedEntry).filter((e): e is NonNullable<typeof e> => e !== undefined);
    const reads = decoded.filter((e) => !e.stored);
    const rows = new Map<FeedEntry, RawEntry | undefined>();
    if (reads.length > 0) {
      const { command, keys } = this.options;
      const found = await Promise.all(reads.map((e) => readHistoryEntries(command, keys, e.jobId, { from: e.historyId, to: e.historyId })));
      reads.forEach((entry, i) => rows.set(entry, found[i]?.[0]));
    }
    const events: FeedEvent[] = [];
    for (const entry of decoded) {
      const row = entry.stored ?? rows.get(entry);
      if (!row) continue;
      try {
        events.push({ feedId: entry.feedId, jobId: entry.jobId, event: decodeHistoryEntry(entry.jobId, row) });
      } catch (decodeErr) {
        this.log.error({ err: decodeErr, jobId: entry.jobId, id: row[0] }, 'skipping an undecodable history entry');
      }
    }
    return events;
  }

  /** Job type (BullMQ job name) of every job whose event feeds a per-type metric. */
  private async jobTypes(events: FeedEvent[]): Promise<Map<string, string>> {
    const ids = [...new Set(events.filter((e) => e.event.event !== 'progress').map((e) => e.jobId))];
    const types = new Map<string, string>();
    if (ids.length === 0) return types;
    const pipeline = this.options.command.pipeline();
    for (const id of ids) pipeline.hget(this.options.keys.job(id), 'name');
    const results = (await pipeline.exec()) ?? [];
    ids.forEach((id, i) => {
      const name = results[i]?.[1];
      if (typeof name === 'string') types.set(id, name);
    });
    return types;
  }

  /** For each `active` event, the time since the job's `waiting` event just before it (by history id). */
  private async waitTimes(events: FeedEvent[]): Promise<Map<string, number>> {
    const active = events.filter((e) => e.event.event === 'active');
    const waits = new Map<string, number>();
    if (active.length === 0) return waits;
    const { command, keys } = this.options;
    const before = await Promise.all(
      active.map((e) => readHistoryEntries(command, keys, e.jobId, { from: '-', to: `(${e.event.id}`, count: 1, newestFirst: true })),
    );
    active.forEach((e, i) => {
      const previous = before[i]?.[0];
      if (!previous) return;
      if (readFields(previous[1])[HISTORY_FIELDS.event] === 'waiting') waits.set(e.event.id, Math.max(0, msOf(e.event.id) - msOf(previous[0])));
    });
    return waits;
  }
}
