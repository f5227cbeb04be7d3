import {
  deliveryJobOptions,
  isFinishedDelivery,
  registerScript,
  type DeliveryJobData,
  type DeliveryLog,
  type DeliveryRecord,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
  type StreamEntry,
  type WebhookEndpointState,
  type WebhookEndpointStore,
  type WebhookSettings,
} from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { FeedDispatch } from '../relay/relay-lease.js';
import { readWebhookEvents, type WebhookEvent } from './feed-events.js';

/** KEYS: cursor, lock. ARGV: lock token, new cursor. Moves the cursor only for the lease holder. */
const MOVE_CURSOR_SCRIPT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

type ScriptClient = RedisClient & { jobstreamWebhookCursor(cursor: string, lock: string, token: string, next: string): Promise<number> };

const defineMoveCursor = registerScript('jobstreamWebhookCursor', { numberOfKeys: 2, lua: MOVE_CURSOR_SCRIPT });

export interface WebhookDispatcherOptions {
  command: RedisClient;
  /** Dedicated to the blocking XREAD of the feed. */
  blocking: RedisClient;
  keys: JobstreamKeys;
  queue: Queue<DeliveryJobData>;
  endpoints: WebhookEndpointStore;
  log: DeliveryLog;
  settings: Pick<WebhookSettings, 'maxAttempts' | 'logRetentionSeconds'>;
  batchSize: number;
  lockTtlMs: number;
  logger: Logger;
  /** How long one XREAD blocks; bounds how quickly stop() returns. Default 1 s. */
  blockMs?: number;
  /** Counts deliveries queued and those logged dead at the pending cap, for the metrics. */
  onQueued?: (outcome: 'queued' | 'over_cap') => void;
}

/**
 * Turns the events of the live feed into deliveries, one per (event, endpoint subscribed to it).
 *
 * Why the feed: every job event of a user's channel and every notification addressed to a user is
 * written there once, with its channel entry, whichever process wrote it (the relay, any api
 * replica). One dispatcher at a time (a lease, like the relay's) reads it from a cursor kept in
 * Redis and moves the cursor only after the batch's deliveries are logged and queued. A restart
 * reads the batch again, and each delivery's id is the same (`<feed id>_<endpoint id>`): the log
 * keeps the first one, and BullMQ adds no second job with an id it holds, so nothing goes twice.
 */
export class WebhookDispatcher {
  private readonly dispatch: FeedDispatch;
  private readonly log: Logger;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.log = options.logger.child({ component: 'webhook-dispatcher' });
    defineMoveCursor(options.command);
    this.dispatch = new FeedDispatch(options.command, options.keys.webhookLock, options.lockTtlMs, this.log, 'webhook dispatcher', {
      resume: async () => {
        const cursor = (await options.command.get(options.keys.webhookCursor)) ?? '0-0';
        this.log.info({ cursor }, 'dispatching webhooks');
        return cursor;
      },
      round: (cursor) => this.dispatchOnce(cursor),
    });
  }

  start(): void {
    this.dispatch.start();
  }

  isLeader(): boolean {
    return this.dispatch.isLeader;
  }

  /** Stops after the current batch and hands the lease over. */
  async stop(): Promise<void> {
    await this.dispatch.stop();
  }

  /** One XREAD, its deliveries logged and queued, then the cursor; returns the new cursor. */
  private async dispatchOnce(cursor: string): Promise<string> {
    const { blocking, command, keys, batchSize } = this.options;
    const reply = (await blocking.xread('COUNT', batchSize, 'BLOCK', this.options.blockMs ?? 1_000, 'STREAMS', keys.feed, cursor)) as
      | [string, StreamEntry[]][]
      | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    if (!last || !this.dispatch.leadership.isLeader) return cursor;
    const { events, missing } = await readWebhookEvents(command, keys, entries);
    if (missing > 0) this.log.error({ missing, cursor }, 'channel entries were trimmed before webhooks were sent for them (raise NOTIFICATION_STREAM_MAX_LEN)');
    await this.deliver(events);
    const moved = await (command as ScriptClient).jobstreamWebhookCursor(keys.webhookCursor, keys.webhookLock, this.dispatch.leadership.lease.token, last[0]);
    if (moved !== 1) {
      this.dispatch.leadership.lost();
      this.log.warn('webhook dispatcher lease lost; the new holder reads this batch again');
      return cursor;
    }
    return last[0];
  }

  private async deliver(events: WebhookEvent[]): Promise<void> {
    const owners = new Map<string, Promise<WebhookEndpointState[]>>();
    const endpointsOf = (owner: string) => {
      let found = owners.get(owner);
      if (!found) owners.set(owner, (found = this.options.endpoints.list(owner)));
      return found;
    };
    const callbackUrls = await this.callbackUrlsOf(events);
    for (const event of events) {
      const endpoints = await endpointsOf(event.owner);
      const enabled = endpoints.filter((e) => e.disabledReason === null);
      const targets = enabled.filter((e) => e.kind !== 'callbacks' && e.events.includes(event.type) && e.createdAt <= event.atMs);
      const deliveries = targets.map((endpoint) => this.queueDelivery(event, endpoint));
      const callbackUrl = callbackUrls.get(event.feedId);
      const callbacks = enabled.find((e) => e.kind === 'callbacks');
      if (callbackUrl !== undefined && callbacks) deliveries.push(this.queueDelivery(event, callbacks, callbackUrl));
      await Promise.all(deliveries);
    }
  }

  /** The `callbackUrl` of each job outcome's job, if it was submitted with one, by feed id. */
  private async callbackUrlsOf(events: WebhookEvent[]): Promise<Map<string, string>> {
    const outcomes = events.filter((e) => (e.type === 'job.completed' || e.type === 'job.failed') && typeof e.payload.data.jobId === 'string');
    const urls = new Map<string, string>();
    if (outcomes.length === 0) return urls;
    const values = await this.options.command.mget(...outcomes.map((e) => this.options.keys.jobCallback(e.payload.data.jobId as string)));
    outcomes.forEach((event, i) => {
      const url = values[i];
      if (typeof url === 'string' && url !== '') urls.set(event.feedId, url);
    });
    return urls;
  }

  /** Logs and queues one delivery; `url` is a job's callbackUrl when it goes there. */
  private async queueDelivery(event: WebhookEvent, endpoint: WebhookEndpointState, url?: string): Promise<void> {
    const now = Date.now();
    const body = JSON.stringify(event.payload);
    const record: DeliveryRecord = {
      id: `${event.feedId}_${endpoint.id}`,
      endpointId: endpoint.id,
      owner: event.owner,
      eventType: event.type,
      status: 'pending',
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      responseTimeMs: null,
      createdAt: now,
      updatedAt: now,
      redeliveries: 0,
      body,
      ...(url !== undefined ? { url } : {}),
    };
    const added = await this.options.log.add(record);
    if (added === 'over-cap') {
      this.options.onQueued?.('over_cap');
      return;
    }
    if (added === 'exists') {
      // Read again after a restart: queue it unless it already ran to its end (BullMQ ignores an id it holds).
      const logged = await this.options.log.get(endpoint.id, record.id);
      if (logged && (isFinishedDelivery(logged.status) || logged.redeliveries > 0)) return;
    }
    await this.options.queue.add(
      'deliver',
      { deliveryId: record.id, owner: record.owner, endpointId: endpoint.id, eventType: event.type, body, createdAt: record.createdAt, ...(url !== undefined ? { url } : {}) },
      { ...deliveryJobOptions(this.options.settings), jobId: record.id },
    );
    if (added === 'added') this.options.onQueued?.('queued');
  }
}
