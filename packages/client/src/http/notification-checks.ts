import type { InboxPage, MarkReadResponse, Notification, NotificationStreamData, NotificationStreamEventName, ReadAllResponse } from '../contract-types.js';
import { bool, isRecord, lifecycleDataChecks, num, optStr, str, type Rec, type ShapeCheck } from './shape-checks.js';

/**
 * Checks of the inbox answers and the notification stream's messages, with the contract's types.
 * Structural and light, like shape-checks.ts (which says why there is no zod here): the fields the
 * SDK and its callers rely on, so that a wrong answer fails loudly instead of typing a lie.
 */

const stamped = (v: unknown): v is Rec => isRecord(v) && str(v, 'timestamp');
const withSeverity = (v: unknown): v is Rec => stamped(v) && str(v, 'severity');

export const isNotification: ShapeCheck<Notification> = (v): v is Notification =>
  isRecord(v) &&
  str(v, 'id') &&
  str(v, 'type') &&
  str(v, 'title') &&
  str(v, 'message') &&
  str(v, 'priority') &&
  str(v, 'severity') &&
  (v.category === null || str(v, 'category')) &&
  isRecord(v.data) &&
  optStr(v, 'topic') &&
  optStr(v, 'userId') &&
  str(v, 'createdAt') &&
  bool(v, 'read');

export const isInboxPage: ShapeCheck<InboxPage> = (v): v is InboxPage =>
  isRecord(v) && Array.isArray(v.items) && v.items.every(isNotification) && (v.nextCursor === null || str(v, 'nextCursor')) && num(v, 'unreadCount');

export const isMarkReadResponse: ShapeCheck<MarkReadResponse> = (v): v is MarkReadResponse => isRecord(v) && str(v, 'id') && v.read === true && num(v, 'unreadCount');

export const isReadAllResponse: ShapeCheck<ReadAllResponse> = (v): v is ReadAllResponse => isRecord(v) && num(v, 'updated') && v.unreadCount === 0;

/** A `job.<event>` message: the lifecycle event's data, plus the job's type and a severity. */
const jobMessage =
  (lifecycle: (v: unknown) => boolean) =>
  (v: unknown): boolean =>
    lifecycle(v) && withSeverity(v) && str(v, 'jobType');

/**
 * One check per message of `GET /api/notifications/stream`. `satisfies` makes the compiler reject
 * a missing or an extra name, so a message added to the contract cannot be forgotten here.
 */
const notificationStreamChecks = {
  connected: (v) => stamped(v) && str(v, 'userId') && num(v, 'unreadCount') && Array.isArray(v.channels) && v.channels.every((c) => typeof c === 'string'),
  heartbeat: stamped,
  reset: (v) => stamped(v) && str(v, 'reason') && str(v, 'channel'),
  'job.waiting': jobMessage(lifecycleDataChecks.waiting),
  'job.delayed': jobMessage(lifecycleDataChecks.delayed),
  'job.active': jobMessage(lifecycleDataChecks.active),
  'job.progress': jobMessage(lifecycleDataChecks.progress),
  'job.stalled': jobMessage(lifecycleDataChecks.stalled),
  'job.completed': jobMessage(lifecycleDataChecks.completed),
  'job.failed': jobMessage(lifecycleDataChecks.failed),
  'job.cancelled': jobMessage(lifecycleDataChecks.cancelled),
  notification: isNotification,
  'system.alert': (v) => withSeverity(v) && str(v, 'alert') && str(v, 'status') && isRecord(v.values),
  'system.kill_switch': (v) => withSeverity(v) && bool(v, 'enabled') && bool(v, 'auto') && str(v, 'changedBy'),
  'system.budget': (v) => withSeverity(v) && str(v, 'period') && num(v, 'spent') && num(v, 'limit') && num(v, 'ratio'),
  'system.circuit_breaker': (v) => withSeverity(v) && str(v, 'breaker') && str(v, 'worker') && str(v, 'from') && str(v, 'to') && num(v, 'failures'),
  unread_count: (v) => stamped(v) && num(v, 'count'),
} satisfies { [N in NotificationStreamEventName]: (v: unknown) => boolean };

export function isNotificationStreamEventName(name: string): name is NotificationStreamEventName {
  return Object.prototype.hasOwnProperty.call(notificationStreamChecks, name);
}

export function isNotificationStreamData<N extends NotificationStreamEventName>(name: N, data: unknown): data is NotificationStreamData<N> {
  return notificationStreamChecks[name](data);
}
