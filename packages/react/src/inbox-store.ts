import type { JobstreamClient, JobstreamError, Notification, NotificationItem } from '@jobstream/client';
import type { NotificationStore } from './notification-store.js';
import { SharedStore, type StoreLifecycle } from './shared-store.js';

/** Items per inbox page `useInbox` loads (the first on mount, then one per `loadMore`). */
export const INBOX_PAGE_SIZE = 20;

/** What `useInbox` renders from. */
export interface InboxView {
  /** The inbox, newest first: the pages loaded so far and the notifications that arrived since. */
  items: readonly Notification[];
  /** The whole inbox's unread count (from the page, then kept current by the stream); undefined before the first answer. */
  unreadCount: number | undefined;
  /** A page is being loaded. */
  loading: boolean;
  /** More (older) items exist: `loadMore()` fetches the next page. */
  hasMore: boolean;
  /** Why the last page load failed, if it did (cleared by the next one that succeeds). */
  error: JobstreamError | Error | undefined;
}

const loadingView: InboxView = Object.freeze({
  items: Object.freeze([]) as readonly Notification[],
  unreadCount: undefined,
  loading: true,
  hasMore: false,
  error: undefined,
});

/** Newest first, each id once (ids sort by creation time); `incoming` wins over what was there. */
function merge(current: readonly Notification[], incoming: readonly Notification[]): Notification[] {
  const byId = new Map(current.map((item) => [item.id, item]));
  for (const item of incoming) byId.set(item.id, item);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * What a first page replaces the list with keeps the items that arrived on the stream after the
 * page's newest one (the page was cut before them); the rest comes from the page.
 */
function arrivedAfter(items: readonly Notification[], newest: Notification | undefined): readonly Notification[] {
  return newest === undefined ? items : items.filter((item) => item.id > newest.id);
}

/**
 * The caller's inbox, shared by every `useInbox` of a client: the first page on open, live
 * arrivals and the unread count from the unfiltered notification stream (the same one
 * `useUnreadCount` reads), and the mark-read calls, which update the list when the api answered.
 */
export class InboxStore extends SharedStore<InboxView> {
  private nextCursor: string | null = null;
  private abort: AbortController | undefined;

  constructor(
    private readonly client: JobstreamClient,
    /** The unfiltered stream's store as the registry has it now (asked at each open: the one of the last open may have closed and been replaced). */
    private readonly stream: () => NotificationStore,
    lifecycle: StoreLifecycle = {},
  ) {
    super(loadingView, lifecycle);
  }

  protected activate(): () => void {
    const abort = new AbortController();
    this.abort = abort;
    this.nextCursor = null;
    const stream = this.stream();
    const release = stream.retain();
    const stopListening = stream.onItem((item) => this.receive(item));
    void this.load(undefined);
    return () => {
      abort.abort();
      stopListening();
      release();
    };
  }

  /** Loads the first page again (after a stream `reset`, or when asked). */
  readonly refresh = (): Promise<void> => this.load(undefined);

  /** Loads the next older page, if there is one and none is loading. */
  readonly loadMore = (): Promise<void> => {
    const view = this.getSnapshot();
    if (view.loading || this.nextCursor === null) return Promise.resolve();
    return this.load(this.nextCursor);
  };

  /** Marks one notification read; the list and the count follow the api's answer. Rejects as `client.inbox.markRead` does. */
  readonly markRead = async (notificationId: string): Promise<void> => {
    const answer = await this.client.inbox.markRead(notificationId);
    this.update((view) => ({
      ...view,
      unreadCount: answer.unreadCount,
      items: view.items.map((item) => (item.id === notificationId ? { ...item, read: true } : item)),
    }));
  };

  /** Marks every notification read. */
  readonly markAllRead = async (): Promise<void> => {
    const answer = await this.client.inbox.markAllRead();
    this.update((view) => ({ ...view, unreadCount: answer.unreadCount, items: view.items.map((item) => (item.read ? item : { ...item, read: true })) }));
  };

  private async load(cursor: string | undefined): Promise<void> {
    const signal = this.abort?.signal;
    if (!signal || signal.aborted) return;
    this.update((view) => ({ ...view, loading: true }));
    try {
      const page = await this.client.inbox.list({ limit: INBOX_PAGE_SIZE, signal, ...(cursor === undefined ? {} : { cursor }) });
      if (signal.aborted) return;
      this.nextCursor = page.nextCursor;
      this.update((view) => ({
        items: merge(cursor === undefined ? arrivedAfter(view.items, page.items[0]) : view.items, page.items),
        unreadCount: page.unreadCount,
        loading: false,
        hasMore: page.nextCursor !== null,
        error: undefined,
      }));
    } catch (err) {
      if (signal.aborted) return;
      this.update((view) => ({ ...view, loading: false, error: err instanceof Error ? err : new Error(String(err)) }));
    }
  }

  private receive(item: NotificationItem): void {
    if (item.event === 'connected') this.update((view) => ({ ...view, unreadCount: item.data.unreadCount }));
    else if (item.event === 'unread_count') this.update((view) => ({ ...view, unreadCount: item.data.count }));
    else if (item.event === 'notification' && item.data.userId !== undefined) this.update((view) => ({ ...view, items: merge(view.items, [item.data]) }));
    // The stream skipped entries (its history no longer covered the cursor): the list may miss some.
    else if (item.event === 'reset') void this.refresh();
  }
}
