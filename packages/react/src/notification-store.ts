import type { ConnectionState, JobstreamClient, JobstreamError, NotificationFilters, NotificationItem } from '@jobstream/client';
import { SharedStore, type StoreLifecycle } from './shared-store.js';

/** How many stream items a notification view keeps, newest first; older ones drop off. */
export const NOTIFICATION_ITEMS_KEPT = 200;

/** The stream items a view lists: everything but the connection's own bookkeeping. */
export type NotificationListItem = Exclude<NotificationItem, { event: 'connected' | 'unread_count' }>;

/** What `useNotifications` renders from: one notification stream's items as they arrived. */
export interface NotificationsView {
  /** Items since the stream opened, newest first, at most NOTIFICATION_ITEMS_KEPT: notifications, `job.*`, `system.*` (admins), `reset`. */
  items: readonly NotificationListItem[];
  /** The caller's unread inbox count, from the stream (`connected`, then each `unread_count`); undefined until connected. */
  unreadCount: number | undefined;
  /** The stream's connection: `connecting`, `live`, `reconnecting`, `closed`. */
  connection: ConnectionState;
  /** The error that stopped the stream (a refused token, a topic not allowed, a bad filter), if one did. */
  error: JobstreamError | undefined;
}

const connectingView: NotificationsView = Object.freeze({
  items: Object.freeze([]) as readonly NotificationListItem[],
  unreadCount: undefined,
  connection: 'connecting',
  error: undefined,
});

/** Called with each item of the stream, `connected` and `unread_count` included. */
export type ItemListener = (item: NotificationItem) => void;

/**
 * One notification stream (one filter set) of a client, shared by every hook that asks for the
 * same filters: `useNotifications` with equal filters, and `useUnreadCount` and `useInbox` on the
 * unfiltered one.
 */
export class NotificationStore extends SharedStore<NotificationsView> {
  private readonly itemListeners = new Set<ItemListener>();

  constructor(
    private readonly client: JobstreamClient,
    private readonly filters: NotificationFilters,
    lifecycle: StoreLifecycle,
  ) {
    super(connectingView, lifecycle);
  }

  /** Listens to every item of the stream while it is open (the inbox store adds arrivals from here). */
  onItem(listener: ItemListener): () => void {
    this.itemListeners.add(listener);
    return () => this.itemListeners.delete(listener);
  }

  protected activate(): () => void {
    const watch = this.client
      .watchNotifications(this.filters)
      .on('notification', (item) => this.receive(item))
      .on('connection', (info) => this.update((view) => (view.connection === info.state ? view : { ...view, connection: info.state })))
      .on('error', (error) => this.update((view) => ({ ...view, error })))
      .on('close', () => this.update((view) => ({ ...view, connection: 'closed' })));
    return () => watch.close();
  }

  private receive(item: NotificationItem): void {
    if (item.event === 'connected') this.update((view) => ({ ...view, unreadCount: item.data.unreadCount }));
    else if (item.event === 'unread_count') this.update((view) => ({ ...view, unreadCount: item.data.count }));
    else this.update((view) => ({ ...view, items: [item, ...view.items].slice(0, NOTIFICATION_ITEMS_KEPT) }));
    for (const listener of [...this.itemListeners]) listener(item);
  }
}

/** The same key for the same filters however they are written: order, duplicates and empty lists do not matter. */
export function filtersKey(filters: NotificationFilters = {}): string {
  const list = (value: string | readonly string[] | undefined): string[] | undefined => {
    if (value === undefined) return undefined;
    const sorted = [...new Set(typeof value === 'string' ? [value] : value)].sort();
    return sorted.length > 0 ? sorted : undefined;
  };
  return JSON.stringify([list(filters.types), list(filters.severity), list(filters.jobType), list(filters.topics)]);
}

/** The filters a key stands for (what the shared stream is opened with). */
export function filtersOfKey(key: string): NotificationFilters {
  const [types, severity, jobType, topics] = JSON.parse(key) as [string[]?, NotificationFilters['severity']?, string[]?, string[]?];
  const filters: NotificationFilters = {};
  if (types) filters.types = types;
  if (severity) filters.severity = severity;
  if (jobType) filters.jobType = jobType;
  if (topics) filters.topics = topics;
  return filters;
}
