import type { WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookListResponse } from '../contract-types.js';
import { bool, isRecord, num, str, type ShapeCheck } from './shape-checks.js';

/** Checks of the webhook answers (see shape-checks.ts for why these are not the contract's zod schemas). */
export const isWebhookEndpoint: ShapeCheck<WebhookEndpoint> = (v): v is WebhookEndpoint =>
  isRecord(v) && str(v, 'id') && (str(v, 'url') || v.url === null) && Array.isArray(v.events) && bool(v, 'enabled') && str(v, 'createdAt');

/** An endpoint answered with its secret (create, rotate-secret). */
export const isWebhookEndpointWithSecret: ShapeCheck<WebhookEndpoint & { secret: string }> = (v): v is WebhookEndpoint & { secret: string } =>
  isWebhookEndpoint(v) && typeof v.secret === 'string' && v.secret.startsWith('whsec_');

export const isWebhookList: ShapeCheck<WebhookListResponse> = (v): v is WebhookListResponse =>
  isRecord(v) && Array.isArray(v.webhooks) && v.webhooks.every(isWebhookEndpoint);

export const isWebhookDelivery: ShapeCheck<WebhookDelivery> = (v): v is WebhookDelivery =>
  isRecord(v) && str(v, 'id') && str(v, 'endpointId') && str(v, 'eventType') && str(v, 'status') && num(v, 'attempts');

export const isWebhookDeliveryList: ShapeCheck<WebhookDeliveryList> = (v): v is WebhookDeliveryList =>
  isRecord(v) && Array.isArray(v.deliveries) && v.deliveries.every(isWebhookDelivery);
