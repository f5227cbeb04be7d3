/**
 * @jobstream/react: React hooks on @jobstream/client. Every hook reads a store shared by all the
 * components of one client (useSyncExternalStore), so a job, a filter set or the inbox is one
 * stream however many components show it, closed when the last of them unmounts.
 */
export { JobstreamProvider, useJobstreamClient } from './jobstream-provider.js';
export type { JobstreamProviderProps } from './jobstream-provider.js';
export { useJob } from './use-job.js';
export type { JobView } from './job-store.js';
export { useNotifications } from './use-notifications.js';
export { NOTIFICATION_ITEMS_KEPT } from './notification-store.js';
export type { NotificationListItem, NotificationsView } from './notification-store.js';
export { useUnreadCount } from './use-unread-count.js';
export { useInbox } from './use-inbox.js';
export type { InboxHandle } from './use-inbox.js';
export { INBOX_PAGE_SIZE } from './inbox-store.js';
export type { InboxView } from './inbox-store.js';
