import { useCallback, useSyncExternalStore } from 'react';
import { useClientStores } from './jobstream-provider.js';

/**
 * The caller's unread inbox count, live from the unfiltered notification stream (the one
 * `useInbox` and `useNotifications()` use too); undefined until the stream connected.
 */
export function useUnreadCount(): number | undefined {
  const store = useClientStores().unfiltered();
  // The count alone, so that a component showing it re-renders only when it changes.
  const count = useCallback(() => store.getSnapshot().unreadCount, [store]);
  return useSyncExternalStore(store.subscribe, count, count);
}
