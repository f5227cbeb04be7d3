/**
 * @jobstream/client: the jobstream SDK for browsers, Node and React Native.
 * No Node-only imports anywhere in this package (its tsconfig has no Node types), so bundlers
 * take it as it is.
 */
export { createClient, JobstreamClient } from './client.js';
export type { AdminJobListOptions, ClientOptions, EnqueueOptions, JobId, JobListOptions, JobPayloadInput, PublishNotificationInput, RequestOptions, TypedEnqueueResponse } from './client.js';
export type { Inbox, InboxListOptions } from './inbox.js';
export type { Webhooks, WebhookDeliveriesOptions } from './webhooks.js';
export type { PushDevices } from './push.js';
export type { ApiRole, AuthMode, MeResponse } from './http/me-response.js';
export type { FetchLike, TokenProvider, TokenRequest } from './http/transport.js';

export { JobWatch } from './watch/job-watch.js';
export type { JobProgress, JobResultOf, JobSnapshotItem, JobSnapshotReason, JobWatchEvents, JobWatchItem, KnownJobType, TypedJobSnapshot, TypedLifecycleEvent, WatchJobOptions } from './watch/job-watch.js';
export { NotificationWatch } from './watch/notification-watch.js';
export type { NotificationFilters, NotificationItem, NotificationItemData, NotificationItemName, NotificationWatchEvents, WatchNotificationsOptions } from './watch/notification-watch.js';
export type { BaseWatchEvents } from './watch/watch-base.js';
export type { ConnectionInfo, ConnectionState } from './sse/connection-state.js';
export { formatDuration } from './format/format-duration.js';
export { formatUsd } from './format/format-usd.js';
export { defaultStreamOptions } from './sse/stream-options.js';
export type { StreamOptions } from './sse/stream-options.js';
export type { StreamTransport } from './sse/stream-transport.js';
export type { XhrConstructor, XhrLike } from './sse/xhr-stream.js';
export { SseParser } from './sse/sse-parser.js';
export type { SseMessage, SseParserCallbacks } from './sse/sse-parser.js';
export { backoffDelay, parseRetryAfter } from './sse/backoff.js';

export { JobstreamError } from './errors/jobstream-error.js';
export { JobstreamApiError } from './errors/api-error.js';
export type { ApiErrorCode } from './errors/api-error.js';
export { NotFoundError } from './errors/not-found-error.js';
export { ValidationError } from './errors/validation-error.js';
export { UnauthorizedError } from './errors/unauthorized-error.js';
export { ForbiddenError } from './errors/forbidden-error.js';
export { ConflictError } from './errors/conflict-error.js';
export { BudgetLimitError } from './errors/budget-limit-error.js';
export { RateLimitError } from './errors/rate-limit-error.js';
export { ServiceUnavailableError } from './errors/service-unavailable-error.js';
export { RedisUnavailableError } from './errors/redis-unavailable-error.js';
export { JobstreamNetworkError } from './errors/network-error.js';
export { JobstreamProtocolError } from './errors/protocol-error.js';
export { errorFromResponse } from './errors/error-from-response.js';
export { isApiError } from './errors/is-api-error.js';

// The contract types a client works with, so an app needs only this package.
export type {
  AdminJobListResponse,
  AdminJobRow,
  AdminJobState,
  AlertsResponse,
  BudgetChargesResponse,
  BudgetStatus,
  CancelJobResponse,
  CleanJobsRequest,
  CleanJobsResponse,
  DemoWorkResult,
  EnqueueResponse,
  ErrorCode,
  Flashcard,
  FlashcardsResult,
  ErrorDetail,
  FeedProgressResponse,
  InboxPage,
  PushPayload,
  PushSubscriptionList,
  PushSubscriptionRequest,
  PushSubscriptionView,
  JobNotificationName,
  JobListResponse,
  JobPayload,
  JobResult,
  JobSnapshot,
  JobState,
  JobTypeName,
  KillSwitchAuditEntry,
  KillSwitchState,
  LifecycleEvent,
  LifecycleEventData,
  LifecycleEventName,
  MarkReadResponse,
  Notification,
  NotificationPriority,
  NotificationRequest,
  NotificationStreamData,
  NotificationStreamEventName,
  QueueBreakdownResponse,
  QueueStats,
  ReadAllResponse,
  Severity,
  SystemEventEntry,
  SystemEventName,
  SystemEventsResponse,
  SystemNotificationName,
  WebhookCreateRequest,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEventType,
  WebhookPayload,
  WorkersResponse,
  WorkerStatus,
} from './contract-types.js';
