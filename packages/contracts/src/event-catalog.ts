import { z } from 'zod';
import { lifecycleEventSchemas, streamEventSchemas, type JobEventName } from './job-events.js';
import {
  notificationStreamSchemas,
  severitySchema,
  type NotificationStreamEventName,
  type Severity,
} from './notifications.js';

/**
 * Where an event travels: `user` (the user's own channel), `user_or_topic` (a notification goes to
 * one user or to a topic), `system` (admins only) or `connection` (one stream's own messages).
 */
export const eventChannelSchema = z.enum(['user', 'user_or_topic', 'system', 'connection']);
export type EventChannel = z.infer<typeof eventChannelSchema>;

interface CatalogDefinition {
  channel: EventChannel;
  /** The severity the event is delivered with unless its data says otherwise (see docs/api.md). */
  severity: Severity;
  description: string;
}

/**
 * What the schemas cannot say about each message of the notification stream. The shapes come
 * from `notificationStreamSchemas`; the `satisfies` makes adding a message without an entry here
 * (or the reverse) a compile error.
 */
const definitions = {
  connected: { channel: 'connection', severity: 'low', description: 'First message of every stream; its id is the cursor to resume from.' },
  heartbeat: { channel: 'connection', severity: 'low', description: 'Keeps proxies from closing an idle stream.' },
  reset: {
    channel: 'connection',
    severity: 'medium',
    description: "The cursor of one channel is no longer covered: the stream goes on from the channel's end; refetch what you show.",
  },
  'job.waiting': { channel: 'user', severity: 'low', description: 'One of your jobs is queued (also after a retry or a stall).' },
  'job.delayed': { channel: 'user', severity: 'low', description: 'One of your jobs waits for a retry backoff.' },
  'job.active': { channel: 'user', severity: 'low', description: 'A worker started an attempt of one of your jobs.' },
  'job.progress': { channel: 'user', severity: 'low', description: 'One of your jobs reported progress.' },
  'job.stalled': { channel: 'user', severity: 'medium', description: 'The worker running one of your jobs stopped answering; the job is retried.' },
  'job.completed': {
    channel: 'user',
    severity: 'low',
    description: 'One of your jobs succeeded. A result over EVENT_RESULT_INLINE_MAX_BYTES is left out (resultOmitted, resultBytes): GET /api/jobs/:id has it.',
  },
  'job.failed': {
    channel: 'user',
    severity: 'high',
    description: 'An attempt of one of your jobs failed: severity high when final, medium when it will be retried.',
  },
  'job.cancelled': {
    channel: 'user',
    severity: 'medium',
    description: 'One of your jobs was cancelled (by you or an admin): removed before it ran, or stopped while running. Its last event.',
  },
  notification: {
    channel: 'user_or_topic',
    severity: 'medium',
    description: 'A notification published by a service, to you (and your inbox) or to a topic you follow; severity from its priority.',
  },
  unread_count: { channel: 'user', severity: 'low', description: 'The number of unread notifications in your inbox changed.' },
  'system.alert': {
    channel: 'system',
    severity: 'high',
    description: 'An alert started (high; critical for queueDepthCritical) or resolved (low).',
  },
  'system.kill_switch': { channel: 'system', severity: 'critical', description: 'The kill-switch was turned on (critical) or off (medium).' },
  'system.budget': { channel: 'system', severity: 'high', description: "The month's spend passed the warning share of the budget." },
  'system.circuit_breaker': {
    channel: 'system',
    severity: 'high',
    description: "A worker's provider circuit breaker opened (high), is half open (medium) or closed again (low).",
  },
} as const satisfies Record<NotificationStreamEventName, CatalogDefinition>;

/**
 * What the schemas cannot say about each message of a job stream (`GET /api/jobs/:id/events`):
 * `lifecycle` events are stored in the job's history and carry an SSE `id:`; `connection`
 * messages belong to one stream and carry none. The `satisfies` keeps it in step with job-events.ts.
 */
const jobStreamDefinitions = {
  connected: { kind: 'connection', description: 'First message of every stream: the job as it is now.' },
  heartbeat: { kind: 'connection', description: 'Keeps proxies from closing an idle stream.' },
  reset: {
    kind: 'connection',
    description: "The job's history no longer covers the Last-Event-ID: the job as it is now; every event still stored follows.",
  },
  waiting: { kind: 'lifecycle', description: 'The job is queued and waits for a worker (also after a retry or a stall).' },
  delayed: { kind: 'lifecycle', description: 'The job waits for a retry backoff to pass.' },
  active: { kind: 'lifecycle', description: 'A worker started an attempt.' },
  progress: { kind: 'lifecycle', description: 'The processor reported progress (a percentage, or an object of its own).' },
  stalled: { kind: 'lifecycle', description: 'The worker running the job stopped answering; the job goes back to waiting.' },
  completed: {
    kind: 'lifecycle',
    description: 'Terminal: the job succeeded. A result over EVENT_RESULT_INLINE_MAX_BYTES is left out (resultOmitted, resultBytes): GET /api/jobs/:id has it.',
  },
  failed: { kind: 'lifecycle', description: 'An attempt failed; terminal when willRetry is false.' },
  cancelled: { kind: 'lifecycle', description: 'Terminal: the job was cancelled by its owner or an admin (by).' },
} as const satisfies Record<JobEventName, { kind: 'lifecycle' | 'connection'; description: string }>;

/** A job stream's messages by SSE event name, connection messages first. */
export const jobStreamEventSchemas = { ...streamEventSchemas, ...lifecycleEventSchemas };

/** One entry of `GET /api/events/catalog`. */
export const eventCatalogEntrySchema = z.object({
  type: z.string(),
  channel: eventChannelSchema,
  severity: severitySchema,
  description: z.string(),
  /** JSON Schema (draft 2020-12) of the message's `data`, generated from its zod schema. */
  schema: z.record(z.string(), z.unknown()),
});
export type EventCatalogEntry = z.infer<typeof eventCatalogEntrySchema>;

/** One message of a job stream in `GET /api/events/catalog` (`jobStreamEvents`). */
export const jobStreamCatalogEntrySchema = z.object({
  /** The SSE event name. */
  type: z.string(),
  /** `lifecycle`: stored in the job's history, sent with an `id:`; `connection`: this stream's own, without one. */
  kind: z.enum(['lifecycle', 'connection']),
  description: z.string(),
  /** JSON Schema (draft 2020-12) of the message's `data`, generated from its zod schema. */
  schema: z.record(z.string(), z.unknown()),
});
export type JobStreamCatalogEntry = z.infer<typeof jobStreamCatalogEntrySchema>;

/** `GET /api/events/catalog`: the notification stream's messages (`events`) and a job stream's (`jobStreamEvents`). */
export const eventCatalogResponseSchema = z.object({
  events: z.array(eventCatalogEntrySchema),
  jobStreamEvents: z.array(jobStreamCatalogEntrySchema),
});
export type EventCatalogResponse = z.infer<typeof eventCatalogResponseSchema>;

/** The default severity of a stream message. */
export function defaultSeverity(type: NotificationStreamEventName): Severity {
  return definitions[type].severity;
}

let cached: EventCatalogResponse | undefined;

/** What the catalog says of a job stream message, beyond its schema. */
export function jobStreamEventDefinition(type: JobEventName): { kind: 'lifecycle' | 'connection'; description: string } {
  return jobStreamDefinitions[type];
}

/** What the catalog says of a notification stream message, beyond its schema. */
export function notificationStreamEventDefinition(type: NotificationStreamEventName): CatalogDefinition {
  return definitions[type];
}

export const jobStreamEventNames = Object.keys(jobStreamDefinitions) as JobEventName[];
export const notificationStreamEventNames = Object.keys(definitions) as NotificationStreamEventName[];

/**
 * Every message of the notification stream with its channel, severity, description and JSON
 * Schema, and every message of a job stream with its kind, description and JSON Schema.
 */
export function eventCatalog(): EventCatalogResponse {
  cached ??= {
    events: notificationStreamEventNames.map((type) => ({
      type,
      ...definitions[type],
      schema: z.toJSONSchema(notificationStreamSchemas[type]) as Record<string, unknown>,
    })),
    jobStreamEvents: jobStreamEventNames.map((type) => ({
      type,
      ...jobStreamDefinitions[type],
      schema: z.toJSONSchema(jobStreamEventSchemas[type]) as Record<string, unknown>,
    })),
  };
  return cached;
}
