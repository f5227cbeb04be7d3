import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { Role } from '../me.js';

/** A success answer of a route: JSON of `schema`, a body of `contentType`, or no body. */
export interface RouteResponse {
  description: string;
  /** The JSON body; absent with `contentType` or for an answer without a body (204). */
  schema?: z.ZodType;
  /** A body that is not JSON (`text/event-stream`, `text/html`, Prometheus text). */
  contentType?: string;
}

/** One HTTP route of the api as its documents describe it. */
export interface ApiRoute {
  method: 'get' | 'post' | 'delete';
  /** The path as Express declares it (`/api/jobs/:id`), so it compares with the routes the app serves. */
  path: string;
  /** The section of the reference it belongs to (see `routeTags`). */
  tag: RouteTag;
  summary: string;
  description?: string;
  /** `public`: no credentials; `user`: any signed-in caller; a list: a signed-in caller with one of these roles. */
  access: 'public' | 'user' | readonly Role[];
  /** An SSE stream: takes `?access_token=` and a cursor (`Last-Event-ID` or `lastEventId`). */
  stream?: true;
  /** Path parameters by name, with what each names. */
  pathParams?: Record<string, string>;
  /** Request headers of this route (besides authentication), with what each does. */
  headers?: Record<string, string>;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** An empty body (`{}`) or none at all. */
  bodyOptional?: true;
  /** Success answers by status. */
  responses: Record<number, RouteResponse>;
  /** Refusals of this route of its own; those that follow from its access, body, query or stream are added. */
  errors: readonly ErrorCode[];
}

/** The sections of the reference, in order, with what each holds. */
export const routeTags = {
  Jobs: 'Submitting jobs, reading them, following them live, cancelling and retrying them.',
  Notifications: 'Publishing notifications, the inbox, the notification stream and the event catalog.',
  Webhooks: 'Endpoints that receive signed deliveries, job callbacks and the delivery log.',
  Push: 'Web Push and Expo push subscriptions.',
  Account: 'Who the caller is, and sign-in codes that hand a token to another device.',
  Operations: "The admin's view: alerts, budget and kill-switch, workers, queue and job clean-up.",
  Reference: 'This reference: the OpenAPI document and its rendered page.',
  Health: 'Liveness, readiness and Prometheus metrics, outside /api.',
} as const;
export type RouteTag = keyof typeof routeTags;

/** The HTTP status of each error code (see docs/api.md). */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_JOB_ID: 400,
  INVALID_LAST_EVENT_ID: 400,
  INVALID_CURSOR: 400,
  WEBHOOK_TARGET_REFUSED: 400,
  PUSH_ENDPOINT_NOT_ALLOWED: 400,
  AUTH_REQUIRED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  GATEWAY_UNTRUSTED: 401,
  FORBIDDEN: 403,
  TOPIC_NOT_ALLOWED: 403,
  JOB_NOT_FOUND: 404,
  SIGN_IN_CODE_INVALID: 404,
  NOTIFICATION_NOT_FOUND: 404,
  WEBHOOK_NOT_FOUND: 404,
  WEBHOOK_DELIVERY_NOT_FOUND: 404,
  PUSH_NOT_CONFIGURED: 404,
  PUSH_KIND_NOT_CONFIGURED: 400,
  PUSH_SUBSCRIPTION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_KEY_REUSED: 409,
  JOB_ALREADY_FINISHED: 409,
  JOB_NOT_RETRYABLE: 409,
  PUSH_SUBSCRIPTION_LIMIT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BUDGET_LIMIT_EXCEEDED: 429,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 429,
  JOB_QUOTA_EXCEEDED: 429,
  STORAGE_QUOTA_EXCEEDED: 429,
  WEBHOOK_QUOTA_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVER_BUSY: 503,
  REDIS_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  AUTH_UNAVAILABLE: 503,
  ALERTS_UNAVAILABLE: 503,
} as const satisfies Record<ErrorCode, number>;

const AUTH_ERRORS: readonly ErrorCode[] = ['AUTH_REQUIRED', 'INVALID_TOKEN', 'TOKEN_EXPIRED', 'GATEWAY_UNTRUSTED', 'AUTH_UNAVAILABLE'];
const BODY_ERRORS: readonly ErrorCode[] = ['VALIDATION_FAILED', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'];
const STREAM_ERRORS: readonly ErrorCode[] = ['INVALID_LAST_EVENT_ID', 'TOO_MANY_STREAMS', 'SERVER_BUSY', 'REDIS_UNAVAILABLE'];

/** Every refusal a route answers with: its own and those that follow from its access, body, query or stream, sorted. */
export function routeErrors(route: ApiRoute): ErrorCode[] {
  const codes = new Set<ErrorCode>([...route.errors, 'INTERNAL_ERROR']);
  const add = (list: readonly ErrorCode[]): void => list.forEach((code) => codes.add(code));
  if (route.access !== 'public') add(AUTH_ERRORS);
  if (Array.isArray(route.access)) add(['FORBIDDEN']);
  // Every POST: the api's JSON parser refuses a body that is not JSON, too deep or too large, whether or not the route reads one.
  if (route.body || route.method === 'post') add(BODY_ERRORS);
  if (route.query) add(['VALIDATION_FAILED']);
  if (route.stream) add(STREAM_ERRORS);
  return [...codes].sort();
}

/** `/api/jobs/:id` as OpenAPI writes it: `/api/jobs/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z]+)/g, '{$1}');
}
