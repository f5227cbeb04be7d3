import type { NotificationFilters } from '@jobstream/client';
import { useSyncExternalStore } from 'react';
import { useClientStores } from './jobstream-provider.js';
import { filtersKey, type NotificationsView } from './notification-store.js';

/**
 * The caller's notification stream, live: items newest first, the unread count and the
 * connection. Components that pass equal filters (however written, e.g. inline objects) share one
 * stream; `useNotifications()` shares the unfiltered one with `useUnreadCount` and `useInbox`.
 */
export function useNotifications(filters?: NotificationFilters): NotificationsView {
  const store = useClientStores().notifications.get(filtersKey(filters));
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
