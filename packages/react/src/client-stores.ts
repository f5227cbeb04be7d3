import type { JobstreamClient } from '@jobstream/client';
import { InboxStore } from './inbox-store.js';
import { JobStore } from './job-store.js';
import { KeyedStores } from './keyed-stores.js';
import { filtersKey, filtersOfKey, NotificationStore } from './notification-store.js';

/** Every store of one client: the unit that decides which components share a stream. */
export interface ClientStores {
  jobs: KeyedStores<JobStore>;
  notifications: KeyedStores<NotificationStore>;
  /** The unfiltered notification stream's store: `useUnreadCount`, `useInbox` and `useNotifications()` share it. */
  unfiltered(): NotificationStore;
  inbox(): InboxStore;
}

function createClientStores(client: JobstreamClient): ClientStores {
  const jobs = new KeyedStores((jobId, lifecycle) => new JobStore(client, jobId, lifecycle));
  const notifications = new KeyedStores((key, lifecycle) => new NotificationStore(client, filtersOfKey(key), lifecycle));
  const unfiltered = () => notifications.get(filtersKey({}));
  // One inbox per client, never replaced, so it needs no registry.
  let inbox: InboxStore | undefined;
  return {
    jobs,
    notifications,
    unfiltered,
    inbox: () => (inbox ??= new InboxStore(client, unfiltered)),
  };
}

// Keyed by the client, not by the provider: two providers of one client share its streams too.
const storesByClient = new WeakMap<JobstreamClient, ClientStores>();

/** The stores of `client`, made on first use. */
export function storesOf(client: JobstreamClient): ClientStores {
  let stores = storesByClient.get(client);
  if (!stores) {
    stores = createClientStores(client);
    storesByClient.set(client, stores);
  }
  return stores;
}
