import { z } from 'zod';

/** The events an endpoint can subscribe to. `job.failed` is a job's last failure (no retry left). */
export const webhookEventTypes = ['job.completed', 'job.failed', 'job.progress', 'notification'] as const;
export const webhookEventTypeSchema = z.enum(webhookEventTypes);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** Longest target URL accepted. */
export const WEBHOOK_URL_MAX_LENGTH = 2_048;

/** Endpoint ids jobstream gives out: `ep_` and 32 hex digits. Anything else names no endpoint. */
export const webhookIdSchema = z.string().regex(/^ep_[0-9a-f]{32}$/);

/**
 * Delivery ids: the feed entry the event came from and the endpoint (`<ms>-<seq>_ep_<hex>`). The
 * same event to the same endpoint always has the same id, which is also its `webhook-id` header.
 */
export const webhookDeliveryIdSchema = z.string().regex(/^\d{1,16}-\d{1,16}_ep_[0-9a-f]{32}$/);

/** The body of `POST /api/webhooks`. */
export const webhookCreateSchema = z
  .object({
    url: z.string().min(1).max(WEBHOOK_URL_MAX_LENGTH),
    events: z
      .array(webhookEventTypeSchema)
      .min(1)
      .max(webhookEventTypes.length)
      .refine((events) => new Set(events).size === events.length, 'must not repeat an event type'),
    description: z.string().trim().max(200).optional(),
  })
  .strict();
export type WebhookCreateRequest = z.input<typeof webhookCreateSchema>;

/** An endpoint as the api answers it. `secret` is in the answers to create and rotate-secret only. */
export const webhookEndpointSchema = z.object({
  id: z.string(),
  /**
   * `endpoint`: one URL for the events it names. `callbacks`: the caller's one job-callbacks
   * endpoint, whose deliveries go to each job's own `callbackUrl` (its `url` is null).
   */
  kind: z.enum(['endpoint', 'callbacks']),
  url: z.string().nullable(),
  events: z.array(webhookEventTypeSchema),
  description: z.string().nullable(),
  enabled: z.boolean(),
  /** Why jobstream turned the endpoint off (it kept failing), or null. */
  disabledReason: z.string().nullable(),
  createdAt: z.string(),
  /** `whsec_<base64>`: the key receivers verify signatures with. */
  secret: z.string().optional(),
});
export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;

/** `GET /api/webhooks`. */
export const webhookListResponseSchema = z.object({ webhooks: z.array(webhookEndpointSchema) });
export type WebhookListResponse = z.infer<typeof webhookListResponseSchema>;

/** Where a delivery is: queued, waiting for a retry, delivered, or given up after its last attempt. */
export const webhookDeliveryStatusSchema = z.enum(['pending', 'retrying', 'delivered', 'dead']);
export type WebhookDeliveryStatus = z.infer<typeof webhookDeliveryStatusSchema>;

/** One entry of an endpoint's delivery log. */
export const webhookDeliverySchema = z.object({
  id: z.string(),
  endpointId: z.string(),
  eventType: webhookEventTypeSchema,
  status: webhookDeliveryStatusSchema,
  attempts: z.number().int().nonnegative(),
  /** HTTP status of the last answer, if one came. */
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  /** How long the last attempt took, in ms. */
  responseTimeMs: z.number().nonnegative().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The body as it is sent (and signed). */
  payload: z.unknown(),
  /** For a job callback: the job's `callbackUrl` it goes to. */
  url: z.string().optional(),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

/** Most deliveries one page of `GET /api/webhooks/:id/deliveries` holds. */
export const WEBHOOK_DELIVERY_PAGE_MAX = 100;

export const webhookDeliveryQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(WEBHOOK_DELIVERY_PAGE_MAX).default(20) })
  .strict();

/** `GET /api/webhooks/:id/deliveries`: newest first. */
export const webhookDeliveryListSchema = z.object({ deliveries: z.array(webhookDeliverySchema) });
export type WebhookDeliveryList = z.infer<typeof webhookDeliveryListSchema>;

/** The body every delivery carries (the Standard Webhooks payload layout). */
export const webhookPayloadSchema = z.object({
  type: webhookEventTypeSchema,
  /** When the event happened (ISO 8601). */
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
