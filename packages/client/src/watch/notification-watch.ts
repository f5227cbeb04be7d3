import type { Transport } from '../http/transport.js';
import type { SseMessage } from '../sse/sse-parser.js';
import { StreamEngine } from '../sse/stream-engine.js';
import type { ResolvedStreamOptions, StreamOptions } from '../sse/stream-options.js';
import { JobstreamProtocolError } from '../errors/protocol-error.js';
import { WatchBase, type BaseWatchEvents } from './watch-base.js';

/** Server-side filters of `GET /api/notifications/stream` (each a list: any of them matches). */
export interface NotificationFilters {
  /** Event types, e.g. `job.completed`, `system.alert`. */
  types?: readonly string[];
  /** e.g. `high`, `critical`. */
  severity?: readonly string[];
  /** Only events of jobs of these types. */
  jobType?: string | readonly string[];
}

/**
 * One message of the notification stream: its name, its id (when it has one; ids are what resume
 * uses) and its JSON data. The shapes are not in the contracts package yet; they are typed here
 * once it declares them, so until then `data` is `unknown`.
 */
export interface NotificationItem {
  event: string;
  id: string | undefined;
  data: unknown;
}

export interface NotificationWatchEvents extends BaseWatchEvents {
  /** Every message but heartbeats, each id once. */
  notification: [item: NotificationItem];
  /** The server's history no longer covered the cursor: notifications between were skipped. */
  reset: [item: NotificationItem];
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
 * stream again, and it never ends by itself.
 */
export class NotificationWatch extends WatchBase<NotificationItem, NotificationWatchEvents, void> {
  protected readonly engine: StreamEngine<never>;

  constructor(transport: Transport, filters: NotificationFilters, options: ResolvedStreamOptions, watchOptions: WatchNotificationsOptions = {}) {
    super(watchOptions.signal);
    const query = { types: filters.types, severity: filters.severity, jobType: typeof filters.jobType === 'string' ? [filters.jobType] : filters.jobType };
    this.engine = new StreamEngine<never>(
      transport,
      options,
      {
        ...this.engineHooks(),
        url: () => transport.url('/api/notifications/stream', query),
        onMessage: (message) => {
          this.handleMessage(message);
          return 'continue';
        },
        onNoContent: async () => undefined,
      },
      watchOptions.lastEventId,
    );
  }

  protected outcome(): void {
    return undefined;
  }

  private handleMessage(message: SseMessage): void {
    if (message.event === 'heartbeat') return;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch (err) {
      throw new JobstreamProtocolError(`the "${message.event}" notification is not JSON`, { cause: err });
    }
    const item: NotificationItem = { event: message.event, id: message.id, data };
    this.deliver(item);
    this.emit('notification', item);
    if (message.event === 'reset') this.emit('reset', item);
  }
}
