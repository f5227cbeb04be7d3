import { z } from 'zod';

/** Every error code the API answers with. Codes are stable: clients switch on them. */
export const errorCodes = [
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'INVALID_JOB_ID',
  'INVALID_LAST_EVENT_ID',
  'JOB_NOT_FOUND',
  'IDEMPOTENCY_KEY_REUSED',
  // Job control: cancelling a job that already ended, retrying one that did not fail.
  'JOB_ALREADY_FINISHED',
  'JOB_NOT_RETRYABLE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'REDIS_UNAVAILABLE',
  'SHUTTING_DOWN',
  'INTERNAL_ERROR',
  // Operations: the kill-switch refusal.
  'BUDGET_LIMIT_EXCEEDED',
  'ALERTS_UNAVAILABLE',
  // Who is calling: no credentials, bad or expired credentials, a role the route needs.
  'AUTH_REQUIRED',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'AUTH_UNAVAILABLE',
  // A sign-in code that is unknown, used or expired (one answer for the three).
  'SIGN_IN_CODE_INVALID',
  // AUTH_MODE=gateway: the request did not come through the trusted gateway, or repeats an identity header.
  'GATEWAY_UNTRUSTED',
  // A notification stream asked for a topic the caller has no grant for.
  'TOPIC_NOT_ALLOWED',
  // Limits that protect the service.
  'RATE_LIMITED',
  'TOO_MANY_STREAMS',
  'SERVER_BUSY',
  // Per-user quotas: jobs not finished yet, and bytes kept in Redis.
  'JOB_QUOTA_EXCEEDED',
  'STORAGE_QUOTA_EXCEEDED',
  // Notifications and the inbox.
  'NOTIFICATION_NOT_FOUND',
  'INVALID_CURSOR',
  // Webhooks: an unknown endpoint or delivery, a target jobstream will not call, the per-user caps.
  'WEBHOOK_NOT_FOUND',
  'WEBHOOK_DELIVERY_NOT_FOUND',
  'WEBHOOK_TARGET_REFUSED',
  'WEBHOOK_QUOTA_EXCEEDED',
  // Push delivery: off (no VAPID keys), a device kind not set up (FCM), an unknown subscription, the per-user cap, a refused endpoint.
  'PUSH_NOT_CONFIGURED',
  'PUSH_KIND_NOT_CONFIGURED',
  'PUSH_SUBSCRIPTION_NOT_FOUND',
  'PUSH_SUBSCRIPTION_LIMIT',
  'PUSH_ENDPOINT_NOT_ALLOWED',
] as const;

export const errorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** One problem with a request, pointing at the field. */
export const errorDetailSchema = z.object({ path: z.string(), message: z.string() });

/** The body of every 4xx and 5xx answer. */
export const apiErrorBodySchema = z.object({
  error: z.string(),
  code: errorCodeSchema,
  details: z.array(errorDetailSchema).optional(),
});

export type ErrorDetail = z.infer<typeof errorDetailSchema>;
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;

/**
 * Turns zod issues into `details` entries (`payload.durationMs: Too big ...`). An unknown field is
 * named by its own path (`unknownParam: is not a known field`); an issue about the whole value is
 * named by `root`: `(body)` for a body, `(query)` for a query string.
 */
export function zodIssuesToDetails(error: z.ZodError, pathPrefix: readonly (string | number)[] = [], root = '(body)'): ErrorDetail[] {
  const pathOf = (path: readonly PropertyKey[]) => [...pathPrefix, ...path].map(String).join('.') || root;
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'is not a known field' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}
