/**
 * Every contract type the SDK uses or hands to its users, in one module: client code imports
 * contract types from here, never from `@jobstream/contracts` itself.
 *
 * Why: the contract's types are inferred from its zod schemas. In the workspace they are used as
 * they are; the package build (scripts/build.mjs) writes this module's declarations out in full
 * (plain object, union and literal types), so the published SDK's types need neither zod nor the
 * contracts package, and still follow the contract with every build. The build fails when another
 * declaration file of the SDK still names `@jobstream/contracts` or `zod`.
 */
import type { JobTypeName, jobTypes } from '@jobstream/contracts';
import type { z } from 'zod';

export type {
  AdminJobListResponse,
  AdminJobRow,
  AdminJobState,
  AlertsResponse,
  ApiErrorBody,
  AuthMode,
  BudgetChargesResponse,
  BudgetStatus,
  CancelJobResponse,
  CleanJobsRequest,
  CleanJobsResponse,
  DemoWorkResult,
  EnqueueResponse,
  ErrorCode,
  ErrorDetail,
  FeedProgressResponse,
  Flashcard,
  FlashcardsResult,
  InboxPage,
  JobListResponse,
  JobNotificationName,
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
  MeResponse,
  Notification,
  NotificationPriority,
  NotificationRequest,
  NotificationStreamData,
  NotificationStreamEventName,
  PushPayload,
  PushSubscriptionList,
  PushSubscriptionRequest,
  PushSubscriptionView,
  QueueBreakdownResponse,
  QueueStats,
  ReadAllResponse,
  Role,
  Severity,
  SystemEventEntry,
  SystemEventName,
  SystemEventsResponse,
  SystemNotificationName,
  VapidPublicKeyResponse,
  WebhookCreateRequest,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEventType,
  WebhookListResponse,
  WebhookPayload,
  WorkersResponse,
  WorkerStatus,
} from '@jobstream/contracts';

/** A job type's payload as the caller writes it (fields with defaults may be left out). */
export type JobPayloadInput<T extends JobTypeName> = z.input<(typeof jobTypes)[T]['payload']>;
