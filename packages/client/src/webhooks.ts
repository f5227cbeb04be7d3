import type { WebhookCreateRequest, WebhookDelivery, WebhookEndpoint } from './contract-types.js';
import type { RequestOptions } from './client.js';
import { isWebhookDelivery, isWebhookDeliveryList, isWebhookEndpoint, isWebhookEndpointWithSecret, isWebhookList } from './http/webhook-checks.js';
import type { Transport } from './http/transport.js';

export interface WebhookDeliveriesOptions extends RequestOptions {
  /** Deliveries to list, newest first, 1 to 100. Default 20. */
  limit?: number;
}

/**
 * The caller's webhook endpoints: each gets the caller's own job outcomes, progress and
 * notifications as signed POSTs (see docs/api.md, Webhooks). Another caller's endpoint id is a
 * NotFoundError (`WEBHOOK_NOT_FOUND`), as an unknown one.
 */
export interface Webhooks {
  /** Registers an endpoint (`POST /api/webhooks`); the answer has its `secret`, the only time it is shown. A private target is a ValidationError (`WEBHOOK_TARGET_REFUSED`). */
  create(endpoint: WebhookCreateRequest, options?: RequestOptions): Promise<WebhookEndpoint & { secret: string }>;
  /**
   * The caller's job-callbacks endpoint (`POST /api/webhooks/job-callbacks`), made if it has none:
   * then with its `secret`, which signs the outcome POSTed to each job's `callbackUrl`.
   */
  jobCallbacks(options?: RequestOptions): Promise<WebhookEndpoint>;
  /** The caller's endpoints, oldest first, without secrets (`GET /api/webhooks`). */
  list(options?: RequestOptions): Promise<WebhookEndpoint[]>;
  /** Deletes an endpoint and its delivery log (`DELETE /api/webhooks/:id`). */
  delete(endpointId: string, options?: RequestOptions): Promise<void>;
  /** A new secret (`POST /api/webhooks/:id/rotate-secret`); the old one keeps signing next to it for 24 hours. */
  rotateSecret(endpointId: string, options?: RequestOptions): Promise<WebhookEndpoint & { secret: string }>;
  /** The endpoint's delivery log, newest first (`GET /api/webhooks/:id/deliveries`). */
  deliveries(endpointId: string, options?: WebhookDeliveriesOptions): Promise<WebhookDelivery[]>;
  /** Sends a delivered or dead delivery again, under the same `webhook-id` (`POST .../deliveries/:deliveryId/redeliver`). */
  redeliver(endpointId: string, deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery>;
}

/** The webhook calls over one transport. */
export function createWebhooks(transport: Transport): Webhooks {
  const signalOf = (o: RequestOptions) => (o.signal ? { signal: o.signal } : {});
  const path = (id: string) => `/api/webhooks/${encodeURIComponent(id)}`;
  return {
    create: (endpoint, o = {}) =>
      transport.json('POST', '/api/webhooks', { body: endpoint, check: isWebhookEndpointWithSecret, expected: 'an endpoint with its secret', ...signalOf(o) }),
    jobCallbacks: (o = {}) =>
      transport.json('POST', '/api/webhooks/job-callbacks', { body: {}, check: isWebhookEndpoint, expected: 'the job-callbacks endpoint', ...signalOf(o) }),
    list: async (o = {}) => (await transport.json('GET', '/api/webhooks', { check: isWebhookList, expected: 'a list of endpoints', ...signalOf(o) })).webhooks,
    delete: async (id, o = {}) => {
      await transport.json('DELETE', path(id), signalOf(o));
    },
    rotateSecret: (id, o = {}) =>
      transport.json('POST', `${path(id)}/rotate-secret`, { body: {}, check: isWebhookEndpointWithSecret, expected: 'an endpoint with its secret', ...signalOf(o) }),
    deliveries: async (id, o = {}) =>
      (await transport.json('GET', `${path(id)}/deliveries`, { query: { limit: o.limit }, check: isWebhookDeliveryList, expected: 'a delivery log', ...signalOf(o) }))
        .deliveries,
    redeliver: (id, deliveryId, o = {}) =>
      transport.json('POST', `${path(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`, { body: {}, check: isWebhookDelivery, expected: 'a delivery', ...signalOf(o) }),
  };
}
