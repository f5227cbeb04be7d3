import { z } from 'zod';
import { eventCatalogResponseSchema } from '../event-catalog.js';
import {
  inboxPageSchema,
  inboxQuerySchema,
  markReadResponseSchema,
  notificationRequestSchema,
  notificationSchema,
  notificationStreamQuerySchema,
  readAllResponseSchema,
} from '../notifications.js';
import { pushSubscriptionListSchema, pushSubscriptionRequestSchema, pushSubscriptionViewSchema, vapidPublicKeyResponseSchema } from '../push.js';
import { webhookCreateSchema, webhookDeliveryListSchema, webhookDeliveryQuerySchema, webhookDeliverySchema, webhookEndpointSchema, webhookListResponseSchema } from '../webhooks.js';
import type { ApiRoute } from './route-table.js';

/** The body of the routes that take none but accept `{}`. */
const emptyBodySchema = z.object({}).strict();
const webhookId = { id: 'The endpoint id (`ep_` and 32 hex digits).' };

/** The notification routes, the event catalog, webhooks and push subscriptions. */
export function notificationRoutesTable(): ApiRoute[] {
  return [
    {
      method: 'get', path: '/api/notifications/stream', tag: 'Notifications', summary: "The caller's notification stream (SSE)",
      description: 'Job events of every job of the caller, notifications, unread counts, system events for admins and the topics asked for; `types`, `severity` and `jobType` filter (comma-separated). Messages: docs/asyncapi.json.',
      access: 'user', stream: true, query: notificationStreamQuerySchema,
      responses: { 200: { description: 'The stream.', contentType: 'text/event-stream' } },
      errors: ['TOPIC_NOT_ALLOWED'],
    },
    {
      method: 'get', path: '/api/notifications', tag: 'Notifications', summary: "The caller's inbox, newest first", access: 'user', query: inboxQuerySchema,
      responses: { 200: { description: 'One page, and the unread count.', schema: inboxPageSchema } },
      errors: ['INVALID_CURSOR', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/notifications', tag: 'Notifications', summary: 'Publish a notification to one user or to a topic',
      access: ['service', 'admin'], body: notificationRequestSchema,
      responses: { 201: { description: 'Published.', schema: notificationSchema } },
      errors: ['REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/notifications/read-all', tag: 'Notifications', summary: "Mark the caller's whole inbox read",
      access: 'user', body: emptyBodySchema, bodyOptional: true,
      responses: { 200: { description: 'How many were unread.', schema: readAllResponseSchema } },
      errors: ['REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/notifications/:id/read', tag: 'Notifications', summary: 'Mark one notification read',
      access: 'user', pathParams: { id: 'The notification id.' }, body: emptyBodySchema, bodyOptional: true,
      responses: { 200: { description: 'Marked read.', schema: markReadResponseSchema } },
      errors: ['NOTIFICATION_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/events/catalog', tag: 'Notifications', summary: 'Every message of the notification stream and of a job stream, with its JSON Schema',
      access: 'public',
      responses: { 200: { description: 'The catalog.', schema: eventCatalogResponseSchema } },
      errors: [],
    },
    {
      method: 'post', path: '/api/webhooks', tag: 'Webhooks', summary: 'Register a webhook endpoint', access: 'user', body: webhookCreateSchema,
      responses: { 201: { description: 'Registered; the answer carries the signing `secret`, once.', schema: webhookEndpointSchema } },
      errors: ['WEBHOOK_TARGET_REFUSED', 'WEBHOOK_QUOTA_EXCEEDED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/webhooks/job-callbacks', tag: 'Webhooks', summary: "The caller's job-callbacks endpoint (created on first call)",
      access: 'user', body: emptyBodySchema, bodyOptional: true,
      responses: {
        201: { description: 'Created, with its `secret`.', schema: webhookEndpointSchema },
        200: { description: 'It existed already.', schema: webhookEndpointSchema },
      },
      errors: ['WEBHOOK_QUOTA_EXCEEDED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/webhooks', tag: 'Webhooks', summary: "The caller's webhook endpoints", access: 'user',
      responses: { 200: { description: 'The endpoints (without secrets).', schema: webhookListResponseSchema } },
      errors: ['REDIS_UNAVAILABLE'],
    },
    {
      method: 'delete', path: '/api/webhooks/:id', tag: 'Webhooks', summary: 'Delete a webhook endpoint', access: 'user', pathParams: webhookId,
      responses: { 204: { description: 'Deleted.' } },
      errors: ['WEBHOOK_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/webhooks/:id/rotate-secret', tag: 'Webhooks', summary: "Replace an endpoint's signing secret",
      access: 'user', pathParams: webhookId, body: emptyBodySchema, bodyOptional: true,
      responses: { 200: { description: 'The endpoint with its new `secret`.', schema: webhookEndpointSchema } },
      errors: ['WEBHOOK_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/webhooks/:id/deliveries', tag: 'Webhooks', summary: "An endpoint's delivery log, newest first",
      access: 'user', pathParams: webhookId, query: webhookDeliveryQuerySchema,
      responses: { 200: { description: 'The deliveries.', schema: webhookDeliveryListSchema } },
      errors: ['WEBHOOK_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/webhooks/:id/deliveries/:deliveryId/redeliver', tag: 'Webhooks', summary: 'Send a logged delivery again',
      access: 'user', pathParams: { ...webhookId, deliveryId: 'The delivery id from the log.' }, body: emptyBodySchema, bodyOptional: true,
      responses: { 202: { description: 'The redelivery is queued.', schema: webhookDeliverySchema } },
      errors: ['WEBHOOK_NOT_FOUND', 'WEBHOOK_DELIVERY_NOT_FOUND', 'WEBHOOK_QUOTA_EXCEEDED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/push/vapid-public-key', tag: 'Push', summary: 'The VAPID public key browsers subscribe with', access: 'user',
      responses: { 200: { description: 'The key.', schema: vapidPublicKeyResponseSchema } },
      errors: ['PUSH_NOT_CONFIGURED'],
    },
    {
      method: 'get', path: '/api/push/subscriptions', tag: 'Push', summary: "The caller's push subscriptions", access: 'user',
      responses: { 200: { description: 'The subscriptions and the most allowed.', schema: pushSubscriptionListSchema } },
      errors: ['PUSH_NOT_CONFIGURED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/push/subscriptions', tag: 'Push', summary: "Register a device: a browser's PushSubscription, an Expo push token or an FCM token",
      access: 'user', body: pushSubscriptionRequestSchema,
      responses: {
        201: { description: 'Registered.', schema: pushSubscriptionViewSchema },
        200: { description: 'It was registered already.', schema: pushSubscriptionViewSchema },
      },
      errors: ['PUSH_NOT_CONFIGURED', 'PUSH_KIND_NOT_CONFIGURED', 'PUSH_ENDPOINT_NOT_ALLOWED', 'PUSH_SUBSCRIPTION_LIMIT', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'delete', path: '/api/push/subscriptions/:id', tag: 'Push', summary: 'Remove a push subscription',
      access: 'user', pathParams: { id: 'The subscription id.' },
      responses: { 204: { description: 'Removed.' } },
      errors: ['PUSH_NOT_CONFIGURED', 'PUSH_SUBSCRIPTION_NOT_FOUND', 'REDIS_UNAVAILABLE'],
    },
  ];
}
