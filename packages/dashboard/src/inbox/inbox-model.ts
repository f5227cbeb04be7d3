import { NotFoundError, UnauthorizedError, type JobstreamClient } from '@jobstream/client';
import type { InboxPage, MarkReadResponse, Notification, ReadAllResponse } from '@jobstream/contracts';
import { createStore, type Store } from '../ui/store.js';

export interface InboxState {
  /** False when the api has no inbox routes (an older api): the bell is then hidden. */
  available: boolean;
  unreadCount: number;
  items: readonly Notification[];
  nextCursor: string | null;
  /** The first page has been fetched. */
  loaded: boolean;
  loading: boolean;
  error: string | undefined;
}

export interface InboxModelOptions {
  client: JobstreamClient;
  onUnauthorized(error: UnauthorizedError): void;
  pageSize?: number;
}

function isInboxPage(value: unknown): value is InboxPage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Array.isArray(v.items) && typeof v.unreadCount === 'number' && (v.nextCursor === null || typeof v.nextCursor === 'string');
}

function unreadCountOf(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const count = (value as Partial<MarkReadResponse | ReadAllResponse>).unreadCount;
  return typeof count === 'number' ? count : undefined;
}

/**
 * The notification inbox behind the bell: the unread count comes live from the stream
 * (`connected`, `unread_count`), new notifications are prepended as they arrive, and the pages,
 * mark-read and mark-all-read go through the SDK's `inbox`.
 */
export class InboxModel {
  readonly state: Store<InboxState> = createStore<InboxState>({
    available: true,
    unreadCount: 0,
    items: [],
    nextCursor: null,
    loaded: false,
    loading: false,
    error: undefined,
  });

  constructor(private readonly options: InboxModelOptions) {}

  /** The first page (again). */
  async load(): Promise<void> {
    this.patch({ loading: true, error: undefined });
    try {
      const page = await this.options.client.inbox.list({ limit: this.options.pageSize ?? 20 });
      if (!isInboxPage(page)) throw new Error('the inbox answer is not { items, nextCursor, unreadCount }');
      this.patch({ items: page.items, nextCursor: page.nextCursor, unreadCount: page.unreadCount, loaded: true, loading: false });
    } catch (err) {
      this.fail(err);
    }
  }

  async loadMore(): Promise<void> {
    const { nextCursor, loading } = this.state.get();
    if (nextCursor === null || loading) return;
    this.patch({ loading: true, error: undefined });
    try {
      const page = await this.options.client.inbox.list({ limit: this.options.pageSize ?? 20, cursor: nextCursor });
      if (!isInboxPage(page)) throw new Error('the inbox answer is not { items, nextCursor, unreadCount }');
      this.state.set((s) => {
        const known = new Set(s.items.map((n) => n.id));
        return { ...s, items: [...s.items, ...page.items.filter((n) => !known.has(n.id))], nextCursor: page.nextCursor, unreadCount: page.unreadCount, loading: false };
      });
    } catch (err) {
      this.fail(err);
    }
  }

  async markRead(id: string): Promise<void> {
    const item = this.state.get().items.find((n) => n.id === id);
    if (!item || item.read) return;
    // At once in the list; the answer brings the authoritative count.
    this.state.set((s) => ({ ...s, items: s.items.map((n) => (n.id === id ? { ...n, read: true } : n)), unreadCount: Math.max(0, s.unreadCount - 1) }));
    try {
      const count = unreadCountOf(await this.options.client.inbox.markRead(id));
      if (count !== undefined) this.patch({ unreadCount: count });
    } catch (err) {
      this.fail(err);
    }
  }

  async markAllRead(): Promise<void> {
    this.state.set((s) => ({ ...s, items: s.items.map((n) => ({ ...n, read: true })), unreadCount: 0 }));
    try {
      const count = unreadCountOf(await this.options.client.inbox.markAllRead());
      if (count !== undefined) this.patch({ unreadCount: count });
    } catch (err) {
      this.fail(err);
    }
  }

  /** A notification from the stream (user-addressed ones are in the inbox too). */
  received(notification: Notification): void {
    if (notification.userId === undefined) return; // a topic notification: live only, not in the inbox
    this.state.set((s) => (s.items.some((n) => n.id === notification.id) ? s : { ...s, items: [notification, ...s.items] }));
  }

  setUnreadCount(count: number): void {
    this.patch({ unreadCount: count });
  }

  private fail(err: unknown): void {
    if (err instanceof UnauthorizedError) {
      this.options.onUnauthorized(err);
      return;
    }
    if (err instanceof NotFoundError && err.code === 'NOT_FOUND') {
      this.patch({ available: false, loading: false });
      return;
    }
    this.patch({ loading: false, error: err instanceof Error ? err.message : String(err) });
  }

  private patch(patch: Partial<InboxState>): void {
    this.state.set((s) => ({ ...s, ...patch }));
  }
}
