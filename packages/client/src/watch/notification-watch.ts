import type { JobTypeName, LifecycleEventData, LifecycleEventName, NotificationStreamData, NotificationStreamEventName, Severity } from '../contract-types.js';
import { JobstreamProtocolError } from '../errors/protocol-error.js';
import { isNotificationStreamData, isNotificationStreamEventName } from '../http/notification-checks.js';
import type { Transport } from '../http/transport.js';
import type { SseMessage } from '../sse/sse-parser.js';
import { StreamEngine, type StreamProgress } from '../sse/stream-engine.js';
import type { ResolvedStreamOptions, StreamOptions } from '../sse/stream-options.js';
import { fetchCompletedJob, resultLeftOut, withInlineResult } from './omitted-result.js';
import { WatchBase, type BaseWatchEvents } from './watch-base.js';

/**
 * Server-side filters of `GET /api/notifications/stream`: OR within one list, AND across
 * `types`, `severity` and `jobType`; at most 20 entries each. `connected`, `reset` and
 * `unread_count` pass every filter.
 */
export interface NotificationFilters {
  /**
   * Message names (`job.completed`, `system.alert`, `notification`) or a notification's own
   * type (`chat.message`). Default: all.
   */
  types?: readonly (NotificationStreamEventName | (string & {}))[];
  /** Severities; a notification's follows from its priority (`normal` → `medium`, `urgent` → `critical`). Default: all. */
  severity?: readonly Severity[];
  /** Only events of jobs of these types (notifications have none, so they do not pass). Default: all. */
  jobType?: JobTypeName | (string & {}) | readonly (JobTypeName | (string & {}))[];
  /**
   * Topics whose notifications the stream also carries (published with `topic`; live only, never
   * in the inbox). Unlike the filters above, these add to the stream. Default: none.
   */
  topics?: readonly string[];
}

/** The messages a watch yields: every message of the stream but `heartbeat`. */
export type NotificationItemName = Exclude<NotificationStreamEventName, 'heartbeat'>;

/**
 * A message's data by name. A `job.<event>` one is composed from the lifecycle event's data:
 * the contracts' `jobNotificationSchemas` infer every job message as the union of all lifecycle
 * data (their `jobMessage` helper is generic), so `job.completed` would not narrow to a `result`.
 * The runtime check is per name (notification-checks.ts), so the narrower type holds.
 */
export type NotificationItemData<K extends NotificationItemName> = K extends `job.${infer L extends LifecycleEventName}`
  ? LifecycleEventData<L> & { jobType: string; severity: Severity }
  : NotificationStreamData<K>;

/**
 * One message of the notification stream: its name, its id (the stream's cursor; what resume
 * uses) and its data, typed by the contract per name: narrow on `event`
 * (`if (item.event === 'notification') toast(item.data.title)`).
 */
export type NotificationItem<N extends NotificationItemName = NotificationItemName> = {
  [K in N]: { event: K; id: string | undefined; data: NotificationItemData<K> };
}[N];

export interface NotificationWatchEvents extends BaseWatchEvents {
  /** Every message but heartbeats, each id once. */
  notification: [item: NotificationItem];
  /** The server's history no longer covered the cursor of `item.data.channel`: messages between were skipped; refetch. */
  reset: [item: NotificationItem<'reset'>];
}

export interface WatchNotificationsOptions extends StreamOptions {
  /** Resume after this event id. */
  lastEventId?: string;
  /** Aborting it closes the watch. */
  signal?: AbortSignal;
}

/**
 * The per-user notification stream, on the same engine as job watches (reconnect, resume, dedup,
 * token refresh, state). It has no polling fallback: it reconnects with backoff until it can
 * stream again, and it never ends by itself. A `job.completed` whose result the api left out (too
 * large to copy into every message) is yielded with the result fetched from `GET /api/jobs/:id`.
 */
export class NotificationWatch extends WatchBase<NotificationItem, NotificationWatchEvents, void> {
  protected readonly engine: StreamEngine<never>;
  private readonly transport: Transport;

  constructor(transport: Transport, filters: NotificationFilters, options: ResolvedStreamOptions, watchOptions: WatchNotificationsOptions = {}) {
    super(watchOptions.signal);
    this.transport = transport;
    const query = { types: filters.types, severity: filters.severity, jobType: typeof filters.jobType === 'string' ? [filters.jobType] : filters.jobType, topics: filters.topics };
    this.engine = new StreamEngine<never>(
      transport,
      options,
      {
        ...this.engineHooks(),
        url: () => transport.url('/api/notifications/stream', query),
        onMessage: (message) => this.handleMessage(message),
        onNoContent: async () => undefined,
      },
      watchOptions.lastEventId,
    );
  }

  protected outcome(): void {
    return undefined;
  }

  private handleMessage(message: SseMessage): StreamProgress | Promise<StreamProgress> {
    const name = message.event;
    // A message newer than this SDK is skipped (its id still moves the cursor), as job watches do.
    if (name === 'heartbeat' || !isNotificationStreamEventName(name)) return 'continue';
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch (err) {
      throw new JobstreamProtocolError(`the "${name}" notification is not JSON`, { cause: err });
    }
    if (!isNotificationStreamData(name, data)) throw new JobstreamProtocolError(`the "${name}" notification does not fit the contract: ${message.data.slice(0, 200)}`);
    const item = { event: name, id: message.id, data } as NotificationItem;
    if (item.event !== 'job.completed' || !resultLeftOut(item.data)) return this.publish(item);
    return fetchCompletedJob(this.transport, item.data.jobId).then((job) => {
      if (this.connectionState === 'closed') return 'done';
      return this.publish(job ? { ...item, data: withInlineResult(item.data, job.result) } : item);
    });
  }

  private publish(item: NotificationItem): StreamProgress {
    this.deliver(item);
    this.emit('notification', item);
    if (item.event === 'reset') this.emit('reset', item);
    return 'continue';
  }
}
