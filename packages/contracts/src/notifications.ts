import { z } from 'zod';
import { lifecycleEventSchemas } from './job-events.js';
import { systemEventSchemas } from './operations.js';

/**
 * Per-user notifications: the body of `POST /api/notifications`, the Notification object, the
 * inbox answers and every message of the notification stream `GET /api/notifications/stream`.
 */

/** How much attention an event asks for; every stream message that is an event carries one. */
export const severities = ['low', 'medium', 'high', 'critical'] as const;
export const severitySchema = z.enum(severities);
export type Severity = z.infer<typeof severitySchema>;

/** What a publisher says about its notification; the severity follows from it (see `severityOfPriority`). */
export const notificationPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export const notificationPrioritySchema = z.enum(notificationPriorities);
export type NotificationPriority = z.infer<typeof notificationPrioritySchema>;

const PRIORITY_SEVERITY: Record<NotificationPriority, Severity> = { low: 'low', normal: 'medium', high: 'high', urgent: 'critical' };

/** The severity a notification of this priority is delivered with (what `severity=` filters on). */
export function severityOfPriority(priority: NotificationPriority): Severity {
  return PRIORITY_SEVERITY[priority];
}

/** Names of stream messages; a notification type may not take one (`types=` matches both). */
const RESERVED_TYPES = new Set(['notification', 'unread_count', 'connected', 'heartbeat', 'reset']);

/**
 * A publisher's notification type, e.g. `chat.message`: dotted lowercase words. `job.` and
 * `system.` belong to the service's own events, so a publisher cannot impersonate them.
 */
export const notificationTypeSchema = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/, 'must be dotted lowercase words like "chat.message"')
  .refine((type) => !type.startsWith('job.') && !type.startsWith('system.'), 'must not start with "job." or "system."')
  .refine((type) => !RESERVED_TYPES.has(type), 'is the name of a stream message');

/** A topic name: it is part of a Redis key and of the stream cursor, so `,`, `=` and `:` are out. */
export const topicSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"');

/**
 * A topic grant: `news` (that topic), `team-42.*` (every topic below `team-42.`, at any depth, not
 * `team-42` itself) or `*` (every topic). The wildcard stands only for whole trailing parts.
 */
export const topicPatternSchema = z
  .string()
  .regex(/^(\*|[A-Za-z0-9_.-]{1,64}|[A-Za-z0-9_.-]{1,62}\.\*)$/, 'must be a topic name, a name followed by ".*", or "*"');

/** Most patterns one token (or gateway header) may grant; a longer list grants nothing. */
export const TOPIC_GRANTS_MAX = 100;

/**
 * A user id, as a token's `sub`, a gateway's user header and a publish's `userId`: it is part of
 * Redis keys. Control characters could forge log lines; an unpaired surrogate (`\p{Cs}` outside a
 * pair) is not valid Unicode, reaches Redis as U+FFFD and would give two ids the same keys.
 */
export const userIdSchema = z
  .string()
  .regex(/^[^\p{Cc}\p{Cs}]{1,256}$/u, 'must be 1-256 characters of valid Unicode (no unpaired surrogates) without control characters');

/**
 * Notification ids sort by creation time: 9 base-36 digits of milliseconds, then 16 hex digits
 * of randomness. The inbox keeps them in lexicographic order, so paging needs no scores.
 */
export const notificationIdSchema = z.string().regex(/^[0-9a-z]{9}[0-9a-f]{16}$/, 'is not a notification id');

/** Largest `data` (as JSON): every inbox holds up to INBOX_MAX_ITEMS of them in Redis. */
export const NOTIFICATION_DATA_MAX_BYTES = 8_192;

function jsonSize(value: unknown): number {
  try {
    return new TextEncoder().encode(JSON.stringify(value)).length;
  } catch {
    // Too deep to serialize: certainly too large.
    return Number.POSITIVE_INFINITY;
  }
}

/** The body of `POST /api/notifications`: to one user (stored in their inbox) or to a topic (live only). */
export const notificationRequestSchema = z
  .object({
    userId: userIdSchema.optional(),
    topic: topicSchema.optional(),
    type: notificationTypeSchema,
    title: z.string().trim().min(1).max(200),
    message: z.string().trim().min(1).max(2_000),
    priority: notificationPrioritySchema.default('normal'),
    category: z.string().trim().min(1).max(64).optional(),
    data: z
      .record(z.string(), z.unknown())
      .refine((data) => jsonSize(data) <= NOTIFICATION_DATA_MAX_BYTES, `must be at most ${NOTIFICATION_DATA_MAX_BYTES} bytes of JSON`)
      .default({}),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.userId === undefined) === (body.topic === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'exactly one of userId and topic is required' });
    }
  });
/** What a publisher sends. */
export type NotificationRequest = z.input<typeof notificationRequestSchema>;
/** A validated request, defaults applied. */
export type ValidNotificationRequest = z.output<typeof notificationRequestSchema>;

/** A notification as stored in the inbox, answered by the inbox routes and sent on the stream. */
export const notificationSchema = z.object({
  id: notificationIdSchema,
  type: z.string(),
  title: z.string(),
  message: z.string(),
  priority: notificationPrioritySchema,
  severity: severitySchema,
  category: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  /** Set when it was published to a topic. */
  topic: z.string().optional(),
  /** Set when it was addressed to one user. */
  userId: z.string().optional(),
  createdAt: z.string(),
  /** Always false on the stream; the inbox answers with the current state. */
  read: z.boolean(),
});
export type Notification = z.infer<typeof notificationSchema>;

/** Largest inbox page. */
export const INBOX_PAGE_MAX = 100;

/** The query of `GET /api/notifications`. `cursor` is the `nextCursor` of the page before. */
export const inboxQuerySchema = z
  .object({
    unread: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    limit: z.coerce.number().int().min(1).max(INBOX_PAGE_MAX).default(20),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();
export type InboxQuery = z.output<typeof inboxQuerySchema>;

/** `GET /api/notifications`: newest first. `nextCursor` is null on the last page. */
export const inboxPageSchema = z.object({
  items: z.array(notificationSchema),
  nextCursor: z.string().nullable(),
  unreadCount: z.number().int().nonnegative(),
});
export type InboxPage = z.infer<typeof inboxPageSchema>;

/** `POST /api/notifications/:id/read`. */
export const markReadResponseSchema = z.object({
  id: notificationIdSchema,
  read: z.literal(true),
  unreadCount: z.number().int().nonnegative(),
});
export type MarkReadResponse = z.infer<typeof markReadResponseSchema>;

/** `POST /api/notifications/read-all`: how many were unread. */
export const readAllResponseSchema = z.object({
  updated: z.number().int().nonnegative(),
  unreadCount: z.literal(0),
});
export type ReadAllResponse = z.infer<typeof readAllResponseSchema>;

const stamped = { timestamp: z.string() };
const withSeverity = { severity: severitySchema };

/** What a lifecycle event's data gains on a notification stream: the job's type and a severity. */
const jobFields = { jobType: z.string(), ...withSeverity };

/** Job events on the notification stream, named `job.<lifecycle event>` (one line each, so each keeps its own type). */
export const jobNotificationSchemas = {
  'job.waiting': lifecycleEventSchemas.waiting.extend(jobFields),
  'job.delayed': lifecycleEventSchemas.delayed.extend(jobFields),
  'job.active': lifecycleEventSchemas.active.extend(jobFields),
  'job.progress': lifecycleEventSchemas.progress.extend(jobFields),
  'job.stalled': lifecycleEventSchemas.stalled.extend(jobFields),
  'job.completed': lifecycleEventSchemas.completed.extend(jobFields),
  'job.failed': lifecycleEventSchemas.failed.extend(jobFields),
  'job.cancelled': lifecycleEventSchemas.cancelled.extend(jobFields),
} as const;

/** System notifications on the notification stream (admins only), from the system stream's entries. */
export const systemNotificationSchemas = {
  'system.alert': systemEventSchemas.alert_started.extend({ status: z.enum(['started', 'resolved']), ...withSeverity }),
  'system.kill_switch': systemEventSchemas.kill_switch_changed.extend(withSeverity),
  'system.budget': systemEventSchemas.budget_warning.extend(withSeverity),
  'system.circuit_breaker': systemEventSchemas.circuit_breaker_state.extend(withSeverity),
} as const;

/** Messages of one connection, not events of a channel. `connected` carries the cursor as its id. */
export const notificationConnectionSchemas = {
  connected: z.object({
    userId: z.string(),
    ...stamped,
    unreadCount: z.number().int().nonnegative(),
    /** The channels this stream follows: `u` (the user's own), `s` (system, admins) and `t:<topic>`. */
    channels: z.array(z.string()),
  }),
  heartbeat: z.object(stamped),
  /** The cursor of `channel` is no longer covered: the stream goes on from the channel's end; refetch. */
  reset: z.object({ reason: z.enum(['history_unavailable']), channel: z.string(), ...stamped }),
} as const;

/** Every message of `GET /api/notifications/stream`, by event name. */
export const notificationStreamSchemas = {
  ...notificationConnectionSchemas,
  ...jobNotificationSchemas,
  notification: notificationSchema,
  ...systemNotificationSchemas,
  unread_count: z.object({ count: z.number().int().nonnegative(), ...stamped }),
} as const;

export type NotificationStreamEventName = keyof typeof notificationStreamSchemas;
export type NotificationStreamData<N extends NotificationStreamEventName = NotificationStreamEventName> = z.infer<
  (typeof notificationStreamSchemas)[N]
>;
export type JobNotificationName = keyof typeof jobNotificationSchemas;
export type SystemNotificationName = keyof typeof systemNotificationSchemas;

/** Stream messages that every filter lets through. */
export const unfilteredStreamEvents: readonly NotificationStreamEventName[] = ['connected', 'heartbeat', 'reset', 'unread_count'];

/** Most entries one filter list may have. */
export const STREAM_FILTER_MAX_ITEMS = 20;

/** A query list: `a,b` or a repeated parameter, trimmed, without empties; absent when nothing is left. */
function commaList<T extends z.ZodType<string, string>>(item: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) =>
      value === undefined
        ? undefined
        : (Array.isArray(value) ? value : [value])
            .flatMap((v) => v.split(','))
            .map((v) => v.trim())
            .filter((v) => v !== ''),
    )
    .pipe(z.array(item).max(STREAM_FILTER_MAX_ITEMS).optional())
    .transform((list) => (list && list.length > 0 ? list : undefined));
}

/**
 * The query of the notification stream. `types`, `severity` and `jobType` filter (OR within one,
 * AND across them); `topics` adds topic channels to the stream.
 */
export const notificationStreamQuerySchema = z.object({
  types: commaList(z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be an event or notification type')),
  severity: commaList(severitySchema),
  jobType: commaList(z.string().min(1).max(64)),
  topics: commaList(topicSchema),
});
export type NotificationStreamQuery = z.output<typeof notificationStreamQuerySchema>;
