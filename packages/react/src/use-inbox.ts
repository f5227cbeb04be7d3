import { useSyncExternalStore } from 'react';
import type { InboxView } from './inbox-store.js';
import { useClientStores } from './jobstream-provider.js';

/** What `useInbox` returns: the inbox and what can be done with it. */
export interface InboxHandle extends InboxView {
  /** Marks one read (`POST /api/notifications/:id/read`); the item and the count follow the answer. */
  markRead(notificationId: string): Promise<void>;
  /** Marks every one read. */
  markAllRead(): Promise<void>;
  /** Loads the next older page. */
  loadMore(): Promise<void>;
  /** Loads the first page again. */
  refresh(): Promise<void>;
}

/**
 * The caller's inbox, newest first: the first page on mount, notifications that arrive live, the
 * unread count and the mark-read actions. Every component using it shares one list and one stream.
 */
export function useInbox(): InboxHandle {
  const store = useClientStores().inbox();
  const view = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return { ...view, markRead: store.markRead, markAllRead: store.markAllRead, loadMore: store.loadMore, refresh: store.refresh };
}
