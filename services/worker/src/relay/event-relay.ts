import {
  cancelledByOf,
  isCursorCovered,
  JOB_CANCELLED_EVENT,
  JOB_CANCELLED_FIELD,
  readFields,
  readStreamBounds,
  tracingEnabled,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
} from '@jobstream/runtime';
import { APPEND_FLAGS, createAppender, type AppendEvent, type AppendLimits } from './append-events.js';
import { ExpiryClock } from './expiry-clock.js';
import { JobOwners } from './job-owners.js';
import {
  isFinalEvent,
  mapBullEvent,
  needsJobFields,
  type BullEventEntry,
  type FinishedJobFields,
  type RelayedEvent,
} from './map-bull-event.js';
import { FeedDispatch, type Leadership } from './relay-lease.js';
import { traceOutcomes } from './relay-trace.js';
import { traceparentFromOptsField } from '../job-trace.js';

/** Jobs (and users) in flight the relay remembers owners and expiries of; beyond it, it reads and sets them again. */
const REMEMBERED = 50_000;
/**
 * A key written on every event gets its expiry set again after this share of its retention: it
 * then expires between 90% and 100% of the retention after its last write, a finished job's
 * history exactly the retention after its last event.
 */
const EXPIRY_REFRESH_SHARE = 0.1;

export interface EventRelayOptions {
  /** For the lease, job hash reads and the append script. */
  command: RedisClient;
  /** Dedicated to the blocking XREAD. */
  blocking: RedisClient;
  keys: JobstreamKeys;
  limits: AppendLimits;
  /** Events read per round. */
  batchSize: number;
  /** Leadership lease; a dead relay is replaced within about this long. */
  lockTtlMs: number;
  logger: Logger;
  /** How long one XREAD blocks; bounds how quickly stop() returns. Default 1 s. */
  blockMs?: number;
  /** `completed` events leave out results of more JSON bytes than this (see mapBullEvent). Default 0: none. */
  resultInlineMaxBytes?: number;
}

export interface RelayStats {
  leader: boolean;
  relayed: number;
  gaps: number;
}

/**
 * Copies BullMQ's queue events into per-job histories and the live feed.
 *
 * Why a relay: BullMQ writes its events atomically with each state change, so they are the only
 * source that never misses one, but its stream is capped, holds whole return values and names
 * only the job. One relay at a time (a lease) reads it in order from a cursor kept in Redis and
 * writes each event to the job's own history, so any api replica can replay any job from any
 * event id. The cursor moves in the same script as the writes: a crash repeats nothing and
 * skips nothing.
 */
export class EventRelay {
  private readonly append: ReturnType<typeof createAppender>;
  private readonly owners = new JobOwners(REMEMBERED);
  private readonly historyExpiries: ExpiryClock;
  private readonly channelExpiries: ExpiryClock;
  private readonly log: Logger;
  private readonly dispatch: FeedDispatch;
  private readonly stats: RelayStats = { leader: false, relayed: 0, gaps: 0 };

  constructor(private readonly options: EventRelayOptions) {
    this.append = createAppender(options.command, options.keys, options.limits);
    this.historyExpiries = new ExpiryClock(options.limits.retentionMs * EXPIRY_REFRESH_SHARE, REMEMBERED);
    this.channelExpiries = new ExpiryClock(options.limits.channelRetentionMs * EXPIRY_REFRESH_SHARE, REMEMBERED);
    this.log = options.logger.child({ component: 'event-relay' });
    // Unpaced: a round waits in its blocking XREAD, and each event goes out as soon as it is read.
    this.dispatch = new FeedDispatch(options.command, options.keys.relayLock, options.lockTtlMs, this.log, 'relay', {
      resume: () => this.resume(),
      round: (cursor) => this.relayOnce(cursor),
    }, 0);
  }

  private get leadership(): Leadership {
    return this.dispatch.leadership;
  }

  start(): void {
    this.dispatch.start();
  }

  getStats(): RelayStats {
    return { ...this.stats, leader: this.leadership.isLeader };
  }

  /** Stops after the current round and hands the lease over. */
  stop(): Promise<void> {
    return this.dispatch.stop();
  }

  /** On taking the lease: the cursor kept in Redis, after saying whether events were trimmed past it. */
  private async resume(): Promise<string> {
    const cursor = (await this.options.command.get(this.options.keys.relayCursor)) ?? '0-0';
    this.log.info({ cursor }, 'relaying queue events');
    await this.detectGap(cursor);
    return cursor;
  }

  /** One XREAD and one append; returns the new cursor. */
  private async relayOnce(cursor: string): Promise<string> {
    const { blocking, keys, batchSize } = this.options;
    const reply = (await blocking.xread(
      'COUNT',
      batchSize,
      'BLOCK',
      this.options.blockMs ?? 1_000,
      'STREAMS',
      keys.bullEvents,
      cursor,
    )) as [string, BullEventEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    if (!last || !this.leadership.isLeader) return cursor;

    const { events, traces } = await this.mapEntries(entries);
    const now = Date.now();
    const batch = this.withOwnersAndFlags(events, now);
    const spans = traceOutcomes(batch, traces);
    const result = await this.append(this.leadership.lease.token, cursor, last[0], batch).catch((err: unknown) => {
      spans.end(err);
      throw err;
    });
    spans.end(result ? undefined : new Error('relay lease lost before writing'));
    if (!result) {
      this.leadership.lost();
      this.log.warn('relay lease lost before writing; leaving the batch to the new relay');
      return cursor;
    }
    this.afterAppend(batch, result.found, now);
    this.stats.relayed += result.appended;
    return last[0];
  }

  /** Each event with its owner, if remembered, and whether the script should set expiries or compact the history. */
  private withOwnersAndFlags(events: RelayedEvent[], now: number): AppendEvent[] {
    const flagged = new Set<string>();
    return events.map((event) => {
      const owner = this.owners.get(event.jobId);
      let flags = '';
      if (!flagged.has(`h:${event.jobId}`) && this.historyExpiries.due(event.jobId, now)) {
        flags += APPEND_FLAGS.expireHistory;
        flagged.add(`h:${event.jobId}`);
      }
      if (isFinalEvent(event)) flags += APPEND_FLAGS.final;
      // An owner not known yet is read by the script, which then sets the channel's expiry to be sure.
      if (!owner || (!flagged.has(`c:${owner.owner}`) && this.channelExpiries.due(owner.owner, now))) {
        flags += APPEND_FLAGS.expireChannel;
        if (owner) flagged.add(`c:${owner.owner}`);
      }
      return { event, owner, flags };
    });
  }

  /** Records what the script did: owners it read, expiries it set; forgets finished jobs. */
  private afterAppend(batch: AppendEvent[], found: Map<string, { owner: string; jobType: string }>, now: number): void {
    for (const [jobId, owner] of found) this.owners.remember(jobId, owner);
    for (const { event, owner, flags } of batch) {
      const known = owner ?? found.get(event.jobId);
      if (flags.includes(APPEND_FLAGS.expireHistory)) this.historyExpiries.set(event.jobId, now);
      if (known && flags.includes(APPEND_FLAGS.expireChannel)) this.channelExpiries.set(known.owner, now);
    }
    for (const { event, flags } of batch) {
      if (!flags.includes(APPEND_FLAGS.final)) continue;
      this.owners.forget(event.jobId);
      this.historyExpiries.forget(event.jobId);
    }
  }

  /** The events to relay, and the enqueue spans (traceparents) of traced jobs whose hash was read. */
  private async mapEntries(entries: BullEventEntry[]): Promise<{ events: RelayedEvent[]; traces: Map<string, string> }> {
    const parsed = entries.map(([id, fields]) => ({ id, fields: readFields(fields) }));
    // A job removed before it ran has no hash left to read its owner from: the api's event carries it.
    for (const { fields } of parsed) {
      if (fields.event === JOB_CANCELLED_EVENT && fields.jobId && fields.owner) {
        this.owners.remember(fields.jobId, { owner: fields.owner, jobType: fields.jobType ?? '' });
      }
    }
    const needFields = [
      ...new Set(parsed.filter((e) => needsJobFields(e.fields.event) && e.fields.jobId).map((e) => e.fields.jobId as string)),
    ];
    const jobFields = new Map<string, FinishedJobFields>();
    const traces = new Map<string, string>();
    if (needFields.length > 0) {
      // With tracing on, the job's options too: they hold its enqueue span (`tm`).
      const fields = ['processedOn', 'finishedOn', 'atm', JOB_CANCELLED_FIELD, ...(tracingEnabled() ? ['opts'] : [])];
      const pipeline = this.options.command.pipeline();
      for (const jobId of needFields) pipeline.hmget(this.options.keys.job(jobId), ...fields);
      const results = (await pipeline.exec()) ?? [];
      needFields.forEach((jobId, i) => {
        const [err, values] = results[i] ?? [null, null];
        if (err || !Array.isArray(values)) return;
        const [processedOn, finishedOn, atm, cancelledBy, opts] = values as (string | null)[];
        const traceparent = traceparentFromOptsField(opts);
        if (traceparent) traces.set(jobId, traceparent);
        const cancelled = cancelledByOf(cancelledBy);
        jobFields.set(jobId, {
          ...(cancelled ? { cancelledBy: cancelled } : {}),
          ...(processedOn ? { processedOn: Number(processedOn) } : {}),
          ...(finishedOn ? { finishedOn: Number(finishedOn) } : {}),
          ...(atm ? { attemptsMade: Number(atm) } : {}),
        });
      });
    }
    const events: RelayedEvent[] = [];
    for (const { id, fields } of parsed) {
      const jobId = fields.jobId;
      const event = mapBullEvent(id, fields, jobId ? jobFields.get(jobId) : undefined, this.options.resultInlineMaxBytes);
      if (event) events.push(event);
    }
    return { events, traces };
  }

  /**
   * BullMQ trims its stream; if entries past our cursor were trimmed while no relay ran, those
   * events are gone. Say so loudly: it means the stream cap is too small for the outage.
   */
  private async detectGap(cursor: string): Promise<void> {
    if (cursor === '0-0') return;
    const bounds = await readStreamBounds(this.options.command, this.options.keys.bullEvents);
    // No stream yet: nothing was trimmed. MAXLEN trimming moves the stream's first entry, not its
    // max-deleted-entry-id (only XDEL does): the coverage rule checks both.
    if (!bounds) return;
    if (!isCursorCovered(cursor, bounds)) {
      this.stats.gaps += 1;
      this.log.error(
        { cursor, firstId: bounds.firstId, maxDeleted: bounds.maxDeletedId },
        'queue events were trimmed before they were relayed; raise EVENTS_STREAM_MAX_LEN. Affected jobs show their outcome in snapshots only',
      );
    }
  }
}
