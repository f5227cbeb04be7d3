import type { InboxPage, MarkReadResponse, ReadAllResponse } from './contract-types.js';
import type { RequestOptions } from './client.js';
import { isInboxPage, isMarkReadResponse, isReadAllResponse } from './http/notification-checks.js';
import type { Transport } from './http/transport.js';

export interface InboxListOptions extends RequestOptions {
  /** Only the unread ones. Default false. */
  unread?: boolean;
  /** Page size, 1 to 100. Default 20. */
  limit?: number;
  /** The `nextCursor` of the page before; absent for the first page. */
  cursor?: string;
}

/**
 * The caller's notification inbox: what was published to them (`userId`), newest first, kept for
 * the api's retention. Notifications published to a topic are live only and never in an inbox.
 */
export interface Inbox {
  /** One page (`GET /api/notifications`): the items, the cursor of the next page (null on the last) and the unread count. */
  list(options?: InboxListOptions): Promise<InboxPage>;
  /** Marks one read (`POST /api/notifications/:id/read`); NotFoundError (`NOTIFICATION_NOT_FOUND`) when it is not in the inbox (any more). */
  markRead(notificationId: string, options?: RequestOptions): Promise<MarkReadResponse>;
  /** Marks every one read (`POST /api/notifications/read-all`); `updated` says how many were unread. */
  markAllRead(options?: RequestOptions): Promise<ReadAllResponse>;
}

/** The inbox calls over one transport. */
export function createInbox(transport: Transport): Inbox {
  const signalOf = (o: RequestOptions) => (o.signal ? { signal: o.signal } : {});
  return {
    list: (o = {}) =>
      transport.json('GET', '/api/notifications', {
        query: { unread: o.unread, limit: o.limit, cursor: o.cursor },
        check: isInboxPage,
        expected: 'an inbox page',
        ...signalOf(o),
      }),
    // `{}` rather than no body: api versions before body-less POSTs answered those 415.
    markRead: (id, o = {}) =>
      transport.json('POST', `/api/notifications/${encodeURIComponent(id)}/read`, {
        body: {},
        check: isMarkReadResponse,
        expected: 'a mark-read answer',
        ...signalOf(o),
      }),
    markAllRead: (o = {}) =>
      transport.json('POST', '/api/notifications/read-all', { body: {}, check: isReadAllResponse, expected: 'a read-all answer', ...signalOf(o) }),
  };
}
